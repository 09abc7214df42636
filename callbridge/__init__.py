"""callbridge: a WebRTC relay that hears trigger phrases and shows a labelled synthetic ad."""

# First, so that its thread limits are in the environment before numpy's
# OpenBLAS or CTranslate2's OpenMP read them (see triggers/__init__.py).
import triggers  # noqa: F401
