"""Routes: contacts."""

from fastapi import APIRouter

router = APIRouter()
