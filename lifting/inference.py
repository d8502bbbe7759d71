"""Running a lifter on sequences of any length: jitted predictor, windows, flip TTA, online mode.

All functions take and return numpy arrays in the model's normalised units: input
``(T, J, 3)`` = (x, y, confidence) from :mod:`lifting.normalize`, output ``(T, J, 3)``.

- :func:`make_predictor`: THE batch forward, in fixed-size batches; used by
  ``experiments.lift``, ``experiments.eval_h36m`` and training validation. JAX (jitted,
  float32 or bfloat16) or onnxruntime (float32 or dynamic int8, :mod:`lifting.onnx_backend`).
- :func:`lift_clips`: fixed clips (the H36M protocols' clip schemes), frames averaged.
- :func:`lift_sequence`: clips longer than the window are cut into overlapping windows whose
  predictions are cross-faded (weights fall smoothly to ~0 at window edges), so there is no jump
  at window boundaries; clips shorter than the window run at their own length.
- :func:`flip_tta`: average with the mirrored prediction (x negated, left/right swapped by the
  keypoint set's flip pairs).
- :class:`OnlineLifter`: causal sliding window; each new frame is lifted from the window ending
  at it and the latency per frame is recorded.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

__all__ = [
    "BACKENDS",
    "OnlineLifter",
    "backend_for",
    "blend_weights",
    "dot_library_for",
    "flip_indices_for",
    "flip_tta",
    "lift_clips",
    "lift_sequence",
    "make_predictor",
    "sanitize_input",
    "window_starts",
]

Predictor = Callable[[np.ndarray], np.ndarray]  # (K, T, J, C) -> (K, T, J, 3)

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}  # JAX predictor dtypes
BACKENDS = ("auto", "jax", "onnxruntime")
BACKEND_DTYPES = {"jax": tuple(DTYPES), "onnxruntime": ("float32", "int8")}


# XLA CPU runs dots through YNNPACK library fusions by default; for the wide presets
# (dim >= 256: motionbert, motionbert-lite) its Eigen dots measured 5-10 % faster at T=243 on a
# 2-core AVX2 CPU, for narrow ones (small, tiny) YNNPACK up to 1.5x faster (bench_lifting).
DOT_LIBRARIES = ("auto", "xla-default", "eigen")
_EIGEN_DOTS = {"xla_cpu_experimental_ynn_fusion_type": ""}


class _Static:
    """Hashable-once holder of a predictor's graph and state structure (jit static data).

    Hashing an NNX ``GraphDef`` costs ~0.7 ms, paid on every jitted call when passed as a
    static argument; instances are interned (see :func:`_static`), so a call compares by
    identity.
    """

    __slots__ = ("_hash", "value")

    def __init__(self, value):
        self.value, self._hash = value, hash(value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        return self is other or (isinstance(other, _Static) and self.value == other.value)


_STATICS: dict = {}


def _static(value) -> _Static:
    return _STATICS.setdefault(value, _Static(value))


def _forward_impl(static: _Static, leaves, x: jax.Array, dtype: str) -> jax.Array:
    graphdef, treedef = static.value
    model = nnx.merge(graphdef, jax.tree.unflatten(treedef, leaves))
    return model(x.astype(DTYPES[dtype])).astype(jnp.float32)


# module level with the graph as static data: every predictor of the same architecture and
# input shape (e.g. one per validation epoch) reuses one compiled forward
_FORWARDS = {
    "xla-default": jax.jit(_forward_impl, static_argnums=(0, 3)),
    "eigen": jax.jit(_forward_impl, static_argnums=(0, 3), compiler_options=_EIGEN_DOTS),
}


def dot_library_for(config, dot_library: str = "auto") -> str:
    """The XLA CPU dot implementation a predictor compiles with (``auto``: by model width)."""
    if dot_library not in DOT_LIBRARIES:
        raise ValueError(f"dot_library: expected one of {DOT_LIBRARIES}, got {dot_library!r}")
    if dot_library == "auto":
        wide = config.dim >= 256 and jax.default_backend() == "cpu"
        return "eigen" if wide else "xla-default"
    return dot_library


def backend_for(dtype: str, backend: str = "auto") -> str:
    """The backend a predictor of ``dtype`` runs on (``auto``: onnxruntime for int8, else JAX)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        backend = "onnxruntime" if dtype == "int8" else "jax"
    if dtype not in BACKEND_DTYPES[backend]:
        raise ValueError(
            f"dtype {dtype!r} is not available on the {backend} backend, expected one of "
            f"{BACKEND_DTYPES[backend]}"
        )
    return backend


def make_predictor(
    model: nnx.Module,
    dtype: str = "float32",
    batch_size: int | None = None,
    dot_library: str = "auto",
    backend: str = "auto",
    threads: int | None = None,
    keep_float: tuple[str, ...] | None = None,
) -> Predictor:
    """The lifter's numpy predictor ``(K, T, J, C) -> (K, T, J, 3)`` float32.

    Every inference path (``experiments.lift``, ``experiments.eval_h36m``, validation during
    training, ``experiments.bench_lifting``) runs through this function.

    Args:
        model: a :class:`lifting.model.DSTformer`; its weights are captured now (later in-place
            updates of ``model`` need a new predictor, which reuses the compiled forward).
        dtype: ``"float32"``, ``"bfloat16"`` (JAX: weights and activations cast; softmax and
            LayerNorm statistics stay float32) or ``"int8"`` (onnxruntime dynamic quantisation:
            int8 per-channel weights, uint8 per-tensor activations; attention products, the
            input embedding and the output head in float32). Output always float32.
        batch_size: clips per forward call; the K clips run in chunks of
            ``min(batch_size, K)``, the last one zero-padded, so one compiled shape serves all.
            ``None``: all K clips in one call.
        dot_library: XLA CPU matrix-multiply backend, ``"xla-default"`` (YNNPACK fusions),
            ``"eigen"``, or ``"auto"`` (Eigen for ``dim >= 256`` on CPU; see ``DOT_LIBRARIES``).
        backend: ``"jax"``, ``"onnxruntime"`` (float32 or int8; graph built from the weights by
            :mod:`lifting.onnx_export`, one session for every T and batch) or ``"auto"``
            (onnxruntime for int8, else JAX).
        threads: onnxruntime intra-op threads (``None``: all cores, as XLA uses).
        keep_float: int8 only: layer groups left in float32 (see
            :data:`lifting.onnx_backend.DEFAULT_KEEP_FLOAT`; ``None``: that default).
    """
    backend = backend_for(dtype, backend)
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size: expected a positive int or None, got {batch_size!r}")
    if backend == "onnxruntime":
        from lifting.checkpoint import state_dict
        from lifting.onnx_backend import DEFAULT_KEEP_FLOAT, OrtLifter

        keep = DEFAULT_KEEP_FLOAT if keep_float is None else tuple(keep_float)
        forward_ort = OrtLifter(model.config, state_dict(model), dtype, threads, keep)

        def run(chunk: np.ndarray) -> np.ndarray:
            return forward_ort(chunk)

    else:
        if keep_float is not None:
            raise ValueError("keep_float applies to dtype='int8' (onnxruntime) only")
        forward = _FORWARDS[dot_library_for(model.config, dot_library)]
        graphdef, state = nnx.split(model)
        leaves, treedef = jax.tree.flatten(state)
        leaves = tuple(jnp.asarray(a, DTYPES[dtype]) for a in leaves)
        static = _static((graphdef, treedef))

        def run(chunk: np.ndarray) -> np.ndarray:
            return np.asarray(forward(static, leaves, chunk, dtype))

    def predict(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        model.check_input(x)
        k = len(x)
        if k == 0:
            return np.zeros(x.shape[:-1] + (3,), np.float32)
        size = k if batch_size is None else min(batch_size, k)
        outs = []
        for i in range(0, k, size):
            chunk = x[i : i + size]
            if len(chunk) < size:
                pad = np.zeros((size - len(chunk),) + chunk.shape[1:], chunk.dtype)
                chunk = np.concatenate([chunk, pad])
            outs.append(run(chunk))
        return np.concatenate(outs)[:k]

    predict.config = model.config  # type: ignore[attr-defined]
    predict.backend = backend  # type: ignore[attr-defined]
    return predict


def sanitize_input(x: np.ndarray, num_joints: int | None = None) -> np.ndarray:
    """Validated float32 copy of ``(T, J, C)`` input; non-finite points -> (0, 0, conf 0).

    Raises:
        ValueError: wrong rank, joint count or channel count, or no frames.
    """
    x = np.array(x, dtype=np.float32)
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"expected input (T, J, 3) = (x, y, confidence), got shape {x.shape}")
    if num_joints is not None and x.shape[1] != num_joints:
        raise ValueError(f"expected {num_joints} joints, got {x.shape[1]} (shape {x.shape})")
    if x.shape[0] == 0:
        raise ValueError("expected at least one frame, got T=0")
    bad = ~np.all(np.isfinite(x), axis=-1)
    x[bad] = 0.0
    x[..., 2] = np.clip(x[..., 2], 0.0, 1.0)
    x[x[..., 2] == 0, :2] = 0.0  # zero-confidence points carry no position (MotionBERT masking)
    return x


def window_starts(num_frames: int, window: int, stride: int) -> list[int]:
    """Start frames of windows of ``window`` frames covering ``num_frames``; last ends at T."""
    if window < 1 or stride < 1 or stride > window:
        raise ValueError(f"expected 1 <= stride ({stride}) <= window ({window})")
    if num_frames <= window:
        return [0]
    starts = list(range(0, num_frames - window, stride))
    starts.append(num_frames - window)
    return starts


def blend_weights(window: int, overlap: int) -> np.ndarray:
    """Cross-fade weights ``(window,)``: cosine ramps of ``overlap`` frames at both ends.

    The weights are > 0 everywhere (so a frame covered by one window keeps its value) and
    ~1e-3 at the first/last frame, so a neighbouring window takes over without a jump.
    """
    i = np.arange(window, dtype=np.float64)
    ramp = max(overlap, 1)
    up = np.clip((i + 0.5) / ramp, 0.0, 1.0)
    down = np.clip((window - i - 0.5) / ramp, 0.0, 1.0)
    w = (0.5 - 0.5 * np.cos(np.pi * up)) * (0.5 - 0.5 * np.cos(np.pi * down))
    return np.maximum(w, 1e-3)


def flip_indices_for(config) -> np.ndarray:
    """Left/right joint permutation of the config's keypoint set (by name)."""
    from wholebody.keypoints import get_keypoint_set

    kset = get_keypoint_set(config.keypoint_set)
    if len(kset) != config.num_joints:
        raise ValueError(
            f"keypoint set {config.keypoint_set!r} has {len(kset)} joints, the model "
            f"{config.num_joints}: set LifterConfig.keypoint_set to the model's joint set"
        )
    return np.asarray(kset.flip_indices)


def flip_tta(predict: Predictor, flip_indices: np.ndarray) -> Predictor:
    """Predictor averaging ``predict(x)`` and the un-mirrored ``predict(mirror(x))``.

    Mirror = negate x (normalised coordinates are centred) and swap left/right joints; the
    result is exactly equivariant: ``tta(mirror(x)) == mirror3d(tta(x))``.
    """
    flip_indices = np.asarray(flip_indices)
    sign = np.array([-1.0, 1.0, 1.0], dtype=np.float32)

    def mirror(a: np.ndarray) -> np.ndarray:
        return a[..., flip_indices, :] * sign

    def predict_tta(x: np.ndarray) -> np.ndarray:
        both = predict(np.concatenate([x, mirror(x)], axis=0))
        n = x.shape[0]
        return 0.5 * (both[:n] + mirror(both[n:]))

    predict_tta.config = getattr(predict, "config", None)  # type: ignore[attr-defined]
    return predict_tta


def lift_sequence(
    predict: Predictor,
    x: np.ndarray,
    *,
    window: int,
    overlap: int | None = None,
    batch_size: int = 8,
    callback: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Lift a whole ``(T, J, C)`` sequence; ``(T, J, 3)`` out.

    Args:
        predict: batch predictor (e.g. :func:`make_predictor`, optionally :func:`flip_tta`).
        x: sanitised input (see :func:`sanitize_input`).
        window: frames per model call (usually ``config.maxlen``); T <= window runs as one call.
        overlap: frames shared by consecutive windows (default ``window // 3``).
        batch_size: windows per predictor call.
        callback: called with (windows done, windows total) after each batch.
    """
    t = x.shape[0]
    if t <= window:
        return predict(x[None])[0]
    overlap = window // 3 if overlap is None else overlap
    if not 0 <= overlap < window:
        raise ValueError(f"expected 0 <= overlap < window={window}, got {overlap}")
    starts = window_starts(t, window, window - overlap)
    weights = blend_weights(window, overlap)[:, None, None]
    total = np.zeros((t, x.shape[1], 3), dtype=np.float64)
    norm = np.zeros((t, 1, 1), dtype=np.float64)
    batch_size = min(batch_size, len(starts))
    for b in range(0, len(starts), batch_size):
        chunk = starts[b : b + batch_size]
        # pad the last batch by repeating its last window: one input shape, one compilation
        padded = chunk + [chunk[-1]] * (batch_size - len(chunk))
        out = predict(np.stack([x[s : s + window] for s in padded]))[: len(chunk)]
        for s, pred in zip(chunk, out):
            total[s : s + window] += weights * pred
            norm[s : s + window] += weights
        if callback is not None:
            callback(min(b + batch_size, len(starts)), len(starts))
    return (total / norm).astype(np.float32)


def lift_clips(predict: Predictor, x: np.ndarray, clips: np.ndarray) -> np.ndarray:
    """Lift a ``(T, J, C)`` sequence through fixed clips, averaging frames seen more than once.

    The clip scheme of the H36M protocols: ``clips`` ``(K, n)`` frame indices (e.g. from
    :func:`lifting.data.clip_indices`, with repeated indices for resampled short tails); every
    clip is predicted (in the predictor's batches) and each frame's predictions are averaged.
    Frames no clip covers are NaN.
    """
    clips = np.asarray(clips)
    if clips.ndim != 2 or not np.issubdtype(clips.dtype, np.integer):
        raise ValueError(f"clips: expected (K, n) integer frame indices, got {clips.shape}")
    t = x.shape[0]
    if clips.size and (clips.min() < 0 or clips.max() >= t):
        raise ValueError(f"clips: indices must lie in [0, {t}), got {clips.min()}..{clips.max()}")
    pred = predict(x[clips]) if len(clips) else np.zeros((0, clips.shape[1], x.shape[1], 3))
    total = np.zeros((t, x.shape[1], 3), dtype=np.float64)
    count = np.zeros(t, dtype=np.float64)
    np.add.at(total, clips.ravel(), pred.reshape(-1, x.shape[1], 3))
    np.add.at(count, clips.ravel(), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / count[:, None, None]).astype(np.float32)


class OnlineLifter:
    """Causal lifting, one frame at a time, from a sliding window of past frames.

    The window always has ``window`` frames (the first frame is repeated until enough have
    arrived) so the jitted predictor compiles once. ``latencies`` holds the seconds each
    :meth:`push` took.
    """

    def __init__(self, predict: Predictor, window: int):
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.predict, self.window = predict, window
        self.buffer: deque[np.ndarray] = deque(maxlen=window)
        self.latencies: list[float] = []

    def push(self, frame: np.ndarray) -> np.ndarray:
        """Add one ``(J, C)`` frame; return the ``(J, 3)`` prediction for it."""
        start = time.perf_counter()
        frame = sanitize_input(np.asarray(frame)[None])[0]
        if self.buffer and frame.shape != self.buffer[-1].shape:
            raise ValueError(
                f"expected a frame of shape {self.buffer[-1].shape}, got {frame.shape}"
            )
        if not self.buffer:
            self.buffer.extend([frame] * self.window)
        else:
            self.buffer.append(frame)
        out = self.predict(np.stack(self.buffer)[None])[0, -1]
        self.latencies.append(time.perf_counter() - start)
        return out

    def run(self, x: np.ndarray) -> np.ndarray:
        """Push every frame of ``(T, J, C)``; ``(T, J, 3)`` causal predictions."""
        return np.stack([self.push(frame) for frame in x])
