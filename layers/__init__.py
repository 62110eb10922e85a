"""Map layer factories: small functions returning dash-leaflet components from data; no I/O."""
