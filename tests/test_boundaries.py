"""Framework borders: numpy-only modules and the JAX packages never import torch."""

import subprocess
import sys

import pytest

NO_TORCH = [
    "wholebody",
    "wholebody.keypoints",
    "wholebody.camera",
    "wholebody.rotations",
    "wholebody.media",
    "wholebody.controlnet",
    "lifting",
    "body_models",
]


@pytest.mark.parametrize("module", NO_TORCH)
def test_module_does_not_import_torch(module):
    code = f"import sys, {module}; sys.exit(3 if 'torch' in sys.modules else 0)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, f"{module} imported torch (rc={proc.returncode}): {proc.stderr}"
