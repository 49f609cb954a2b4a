"""Routes: groups."""

from fastapi import APIRouter

router = APIRouter()
