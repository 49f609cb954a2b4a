"""Routes: domain."""

from fastapi import APIRouter

router = APIRouter()
