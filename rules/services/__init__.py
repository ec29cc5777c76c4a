"""Business operations of the rules app: one function per operation (permission → validate → write → audit)."""
