"""Routes: numbers."""

from fastapi import APIRouter

router = APIRouter()
