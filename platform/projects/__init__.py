"""Projects: the records the ledger (统一项目台账) is made of."""
