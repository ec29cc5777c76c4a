"""The org tree: localities and departments (省/市/区县/委办局/科室). Data access is scoped to subtrees."""
