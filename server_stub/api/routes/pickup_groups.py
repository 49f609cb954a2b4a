"""Routes: pickup_groups."""

from fastapi import APIRouter

router = APIRouter()
