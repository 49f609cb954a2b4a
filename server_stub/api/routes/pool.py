"""Routes: pool."""

from fastapi import APIRouter

router = APIRouter()
