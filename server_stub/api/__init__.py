"""HTTP/WebSocket API: FastAPI routers per area, schemas, auth and audit."""
