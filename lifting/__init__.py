"""Temporal 2D->3D lifting (JAX/Flax NNX + optax). Never imports torch."""
