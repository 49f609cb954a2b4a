"""Routes: devices."""

from fastapi import APIRouter

router = APIRouter()
