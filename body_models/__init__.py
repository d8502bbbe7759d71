"""SMPL-X-layout body models, fitting and motion-file export (numpy + JAX maths)."""
