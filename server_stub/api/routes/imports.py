"""Routes: imports."""

from fastapi import APIRouter

router = APIRouter()
