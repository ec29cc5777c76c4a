"""Approval flows (审批): configured per project type and transition, executed with tasks, timers and delegation."""
