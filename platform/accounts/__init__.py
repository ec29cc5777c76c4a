"""Users, roles and grants, and the one permission API every read and write goes through."""
