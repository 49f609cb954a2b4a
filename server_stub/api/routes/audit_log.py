"""Routes: audit_log."""

from fastapi import APIRouter

router = APIRouter()
