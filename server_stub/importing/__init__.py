"""Bulk import of users and company contacts from CSV or XLSX files.

Two steps, as in the manual: *check* (parse, validate every row, quote the price; nothing is
written) and *create* (the same validation again, then every valid row in one transaction).
This package parses and validates without a web framework; ``server_stub.api.routes.imports``
exposes it over HTTP and does the audit and the events.
"""
