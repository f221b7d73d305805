"""Mail: message building, rendering, delivery backends and inbound understanding."""
