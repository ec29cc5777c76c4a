"""Bulk import of an existing project ledger from Excel against a project type (issue #5 point 7).

`columns` (pure) reads a sheet's header and cells through the forms core; `workbook` handles the .xlsx files;
`checks` is the dry run of project creation; `services` the operations; `tasks`, `views` and `api` the interfaces.
"""
