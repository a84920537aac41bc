"""The citytwin model: plain Python + numpy, no Qt, no VTK."""
