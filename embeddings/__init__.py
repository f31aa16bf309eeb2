"""Absen's face engine: decode, detect, embed and compare faces.

Independent of Flask and of the database, so the same code serves the API, the CLI
and the benchmarks.
"""

from .engine import EngineSettings, FaceEmbedding, FaceEngine, FacePolicy, ensure_compatible, load_engine
from .errors import FaceEngineError
from .image import DecodeLimits
from .matcher import Gallery, IndexSettings, Match, verify

__all__ = [
    "DecodeLimits", "EngineSettings", "FaceEmbedding", "FaceEngine", "FaceEngineError", "FacePolicy",
    "Gallery", "IndexSettings", "Match", "ensure_compatible", "load_engine", "verify",
]
