"""The DSTformer forward as an ONNX graph, built from the Flax parameters with numpy + ``onnx``.

Same maths as :mod:`lifting.model` / :mod:`lifting.layers` (exact-erf GELU, LayerNorm with the
config's epsilon, ``1/sqrt(K)`` folded into the q columns of ``qkv``, causal temporal mask,
learned per-token stream fusion, ``tanh(pre_logits)`` representation, output head). The graph
takes ``x`` ``(B, T, J, in_channels)`` float32 with B and T dynamic (``1 <= T <= maxlen``; the
temporal table and the causal mask are sliced to T) and returns ``y`` ``(B, T, J, out_channels)``.

Every linear layer is one ``MatMul`` with a constant ``(in, out)`` weight followed by an
``Add`` of its bias, the form ``onnxruntime.quantization.quantize_dynamic`` turns into int8
``MatMulInteger`` (see :mod:`lifting.onnx_backend`). Node names are stable and descriptive
(``blocks_st.0.attn_s.qkv``, ``blocks_st.0.attn_s.qk`` ...) so layers can be chosen by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from lifting.config import LifterConfig

__all__ = ["OPSET", "build_onnx_model", "linear_node_names"]

OPSET = 17  # first opset with LayerNormalization


class _Graph:
    """Accumulates nodes and initialisers; every value gets a unique name."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._consts: dict[tuple, str] = {}

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def shared(self, value, dtype=np.int64) -> str:
        """A small constant (shapes, axes, scalars), deduplicated by value."""
        array = np.asarray(value, dtype=dtype)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self._consts:
            self._consts[key] = self.const(f"const_{len(self._consts)}", array)
        return self._consts[key]

    def op(self, op_type: str, inputs: list[str], name: str, **attrs) -> str:
        out = f"{name}:out"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=name, **attrs))
        return out


def _f32(params: dict[str, np.ndarray], key: str) -> np.ndarray:
    if key not in params:
        raise ValueError(f"parameter {key!r} missing from the lifter state dict")
    return np.asarray(params[key], dtype=np.float32)


def _linear(g: _Graph, x: str, params, key: str, col_scale: np.ndarray | None = None) -> str:
    kernel, bias = _f32(params, f"{key}.kernel"), _f32(params, f"{key}.bias")
    if col_scale is not None:  # as layers.Attention: kernel * cols, bias * cols in float32
        kernel, bias = kernel * col_scale, bias * col_scale
    w = g.const(f"{key}.kernel", kernel)
    b = g.const(f"{key}.bias", bias)
    return g.op("Add", [g.op("MatMul", [x, w], key), b], f"{key}.add")


def _layer_norm(g: _Graph, x: str, params, key: str, eps: float) -> str:
    scale = g.const(f"{key}.scale", _f32(params, f"{key}.scale"))
    bias = g.const(f"{key}.bias", _f32(params, f"{key}.bias"))
    return g.op("LayerNormalization", [x, scale, bias], key, axis=-1, epsilon=float(eps))


def _gelu(g: _Graph, x: str, key: str) -> str:
    """``0.5 * x * (1 + erf(x / sqrt 2))``, the pattern onnxruntime fuses into one Gelu op."""
    inner = g.op("Div", [x, g.shared(np.float32(2.0**0.5), np.float32)], f"{key}.scale")
    erf = g.op("Erf", [inner], f"{key}.erf")
    one = g.op("Add", [erf, g.shared(np.float32(1.0), np.float32)], f"{key}.plus1")
    return g.op("Mul", [g.op("Mul", [x, one], f"{key}.mul"), g.shared(0.5, np.float32)], key)


@dataclass(frozen=True)
class _Context:
    """Graph-wide values: the config, T (int64 ``(1,)`` tensor), causal mask, attention form."""

    cfg: LifterConfig
    mask: str | None  # additive (T, T) causal mask of the MatMul attention form
    contrib: bool  # attention as com.microsoft MultiHeadAttention
    shapes: dict[str, str]  # Reshape targets with the dynamic T: "(-1,T,D)", "(-1,J,T,D)" ...


def _attention(g: _Graph, x: str, params, key: str, ctx: _Context, temporal: bool) -> str:
    """Multi-head self-attention over joints (``temporal=False``) or frames of ``(B,T,J,D)``."""
    if ctx.contrib:
        return _attention_contrib(g, x, params, key, ctx, temporal)
    cfg = ctx.cfg
    d, h = cfg.dim, cfg.num_heads
    k = d // h
    cols = np.repeat(np.asarray([k**-0.5, 1.0, 1.0], np.float32), d)
    qkv = _linear(g, x, params, f"{key}.qkv", cols)  # (B, T, J, 3D)
    q, kk, v = (f"{key}.split:{i}" for i in range(3))
    g.nodes.append(
        helper.make_node(
            "Split", [qkv, g.shared([d, d, d])], [q, kk, v], name=f"{key}.split", axis=-1
        )
    )
    heads = g.shared([0, 0, 0, h, k])  # (B, T, J, D) -> (B, T, J, H, K)
    # tokens second-minor: (B, other, H, tokens, K); keys transposed to (B, other, H, K, tokens)
    if temporal:
        perm_q, perm_k, back = (0, 2, 3, 1, 4), (0, 2, 3, 4, 1), (0, 3, 1, 2, 4)
    else:
        perm_q, perm_k, back = (0, 1, 3, 2, 4), (0, 1, 3, 4, 2), (0, 1, 3, 2, 4)

    def split_heads(name: str, src: str, perm) -> str:
        r = g.op("Reshape", [src, heads], f"{key}.{name}_heads")
        return g.op("Transpose", [r], f"{key}.{name}_t", perm=list(perm))

    q_h = split_heads("q", q, perm_q)
    k_h = split_heads("k", kk, perm_k)
    v_h = split_heads("v", v, perm_q)
    logits = g.op("MatMul", [q_h, k_h], f"{key}.qk")  # (B, other, H, N, N)
    if temporal and ctx.mask is not None:
        logits = g.op("Add", [logits, ctx.mask], f"{key}.mask")
    weights = g.op("Softmax", [logits], f"{key}.softmax", axis=-1)
    out = g.op("MatMul", [weights, v_h], f"{key}.av")  # (B, other, H, N, K)
    out = g.op("Transpose", [out], f"{key}.out_t", perm=list(back))  # (B, T, J, H, K)
    out = g.op("Reshape", [out, g.shared([0, 0, 0, d])], f"{key}.merge")
    return _linear(g, out, params, f"{key}.proj")


def _attention_contrib(g: _Graph, x: str, params, key: str, ctx: _Context, temporal: bool):
    """The same attention through onnxruntime's ``MultiHeadAttention`` on ``(batch, N, D)``.

    Spatial: batch = B*T, a free reshape. Temporal: the input is transposed to ``(B, J, T, D)``
    once and the projected output back once (q, k, v and the heads need no copies).
    """
    cfg = ctx.cfg
    d, j = cfg.dim, cfg.num_joints
    if temporal:
        x = g.op("Transpose", [x], f"{key}.in_t", perm=[0, 2, 1, 3])  # (B, J, T, D)
        x = g.op("Reshape", [x, ctx.shapes["(-1,T,D)"]], f"{key}.tokens")  # (B*J, T, D)
    else:
        x = g.op("Reshape", [x, g.shared([-1, j, d])], f"{key}.tokens")  # (B*T, J, D)
    kernel, bias = _f32(params, f"{key}.qkv.kernel"), _f32(params, f"{key}.qkv.bias")
    scale = (d // cfg.num_heads) ** -0.5
    qkv = []
    for i, name in enumerate("qkv"):
        cols = slice(i * d, (i + 1) * d)
        w, b = kernel[:, cols] * (scale if i == 0 else 1.0), bias[cols] * (scale if i == 0 else 1.0)
        w = g.const(f"{key}.{name}.kernel", w.astype(np.float32))
        b = g.const(f"{key}.{name}.bias", b.astype(np.float32))
        qkv.append(g.op("Add", [g.op("MatMul", [x, w], f"{key}.{name}"), b], f"{key}.{name}.add"))
    out = g.op(
        "MultiHeadAttention",
        qkv,
        f"{key}.mha",
        domain="com.microsoft",
        num_heads=cfg.num_heads,
        scale=1.0,
        unidirectional=int(temporal and cfg.causal),
    )
    out = _linear(g, out, params, f"{key}.proj")  # per token: before restoring the layout
    if temporal:
        out = g.op("Reshape", [out, ctx.shapes["(-1,J,T,D)"]], f"{key}.untokens")
        return g.op("Transpose", [out], f"{key}.out_t", perm=[0, 2, 1, 3])
    return g.op("Reshape", [out, ctx.shapes["(-1,T,J,D)"]], f"{key}.untokens")


def _sub_block(g: _Graph, x: str, params, key: str, ctx: _Context, temporal: bool) -> str:
    s = "t" if temporal else "s"
    eps = ctx.cfg.layer_norm_eps
    h = _layer_norm(g, x, params, f"{key}.norm1_{s}", eps)
    a = _attention(g, h, params, f"{key}.attn_{s}", ctx, temporal)
    x = g.op("Add", [x, a], f"{key}.res1_{s}")
    h = _layer_norm(g, x, params, f"{key}.norm2_{s}", eps)
    h = _linear(g, h, params, f"{key}.mlp_{s}.fc1")
    h = _gelu(g, h, f"{key}.mlp_{s}.gelu")
    h = _linear(g, h, params, f"{key}.mlp_{s}.fc2")
    return g.op("Add", [x, h], f"{key}.res2_{s}")


def _fuse(g: _Graph, x_st: str, x_ts: str, params, key: str) -> str:
    """``softmax(Linear(concat)) `` weighted mix of the two streams (``model.DSTformer``)."""
    cat = g.op("Concat", [x_st, x_ts], f"{key}.concat", axis=-1)
    alpha = g.op("Softmax", [_linear(g, cat, params, key)], f"{key}.softmax", axis=-1)
    zero, one, two, last = (g.shared([i]) for i in (0, 1, 2, -1))
    a0 = g.op("Slice", [alpha, zero, one, last], f"{key}.alpha0")
    a1 = g.op("Slice", [alpha, one, two, last], f"{key}.alpha1")
    mixed_st = g.op("Mul", [x_st, a0], f"{key}.mix_st")
    return g.op("Add", [mixed_st, g.op("Mul", [x_ts, a1], f"{key}.mix_ts")], f"{key}.mix")


def build_onnx_model(
    config: LifterConfig, params: dict[str, np.ndarray], contrib_attention: bool = True
) -> onnx.ModelProto:
    """ONNX model (opset 17) of the DSTformer with ``params`` (``checkpoint.state_dict`` keys).

    Args:
        config: the model's :class:`LifterConfig` (any joint count, causal or not).
        params: ``{dotted path: array}`` as :func:`lifting.checkpoint.state_dict` returns.
        contrib_attention: attention as onnxruntime's ``com.microsoft.MultiHeadAttention``
            (fewer layout copies; q, k, v as three linear layers). ``False``: standard ONNX ops
            only (Split, Transpose, MatMul, Softmax; any runtime).

    Raises:
        ValueError: a parameter is missing or has the wrong shape for ``config``.
    """
    expected = {
        "joints_embed.kernel": (config.in_channels, config.dim),
        "pos_embed": (config.num_joints, config.dim),
        "temp_embed": (config.maxlen, config.dim),
        "head.kernel": (config.dim_rep, config.out_channels),
    }
    for key, shape in expected.items():
        got = tuple(np.shape(params.get(key, ())))
        if got != shape:
            raise ValueError(f"parameter {key!r}: expected shape {shape} for the config, got {got}")
    g = _Graph()
    x_in = helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, ["batch", "frames", config.num_joints, config.in_channels]
    )
    y_out = helper.make_tensor_value_info(
        "y", TensorProto.FLOAT, ["batch", "frames", config.num_joints, config.out_channels]
    )
    # T from the input's shape: slices of the temporal table and of the causal mask
    frames = g.op("Slice", [g.op("Shape", ["x"], "shape"), g.shared([1]), g.shared([2])], "T")
    zero = g.shared([0])
    temp = g.const("temp_embed", _f32(params, "temp_embed")[:, None, :])  # (maxT, 1, D)
    temp = g.op("Slice", [temp, zero, frames, zero], "temp_embed.slice")
    mask = None
    if config.causal and not contrib_attention:
        n = config.maxlen
        table = np.where(np.tri(n, dtype=bool), 0.0, -np.inf).astype(np.float32)
        mask = g.op("Slice", [g.const("causal_mask", table), zero, frames, zero], "mask_rows")
        mask = g.op("Slice", [mask, zero, frames, g.shared([1])], "causal_mask.slice")

    shapes = {}
    if contrib_attention:
        j, d = config.num_joints, config.dim
        for name, (head, tail) in {
            "(-1,T,D)": ([-1], [d]),
            "(-1,J,T,D)": ([-1, j], [d]),
            "(-1,T,J,D)": ([-1], [j, d]),
        }.items():
            parts = [g.shared(head), frames, g.shared(tail)]
            shapes[name] = g.op("Concat", parts, f"shape{name}", axis=0)
    ctx = _Context(config, mask, contrib_attention, shapes)
    x = _linear(g, "x", params, "joints_embed")
    x = g.op("Add", [x, g.const("pos_embed", _f32(params, "pos_embed"))], "pos_embed.add")
    x = g.op("Add", [x, temp], "temp_embed.add")
    for i in range(config.depth):
        x_st = _sub_block(g, x, params, f"blocks_st.{i}", ctx, False)
        x_st = _sub_block(g, x_st, params, f"blocks_st.{i}", ctx, True)
        x_ts = _sub_block(g, x, params, f"blocks_ts.{i}", ctx, True)
        x_ts = _sub_block(g, x_ts, params, f"blocks_ts.{i}", ctx, False)
        x = _fuse(g, x_st, x_ts, params, f"ts_attn.{i}")
    x = _layer_norm(g, x, params, "norm", config.layer_norm_eps)
    rep = g.op("Tanh", [_linear(g, x, params, "pre_logits")], "rep")
    y = _linear(g, rep, params, "head")
    g.nodes.append(helper.make_node("Identity", [y], ["y"], name="output"))
    graph = helper.make_graph(g.nodes, f"dstformer_{config.name}", [x_in], [y_out], g.inits)
    opsets = [helper.make_opsetid("", OPSET)]
    if contrib_attention:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="lifting")
    model.ir_version = 8  # readable by every onnxruntime >= 1.13
    return model


def linear_node_names(config: LifterConfig, contrib_attention: bool = True) -> dict[str, list[str]]:
    """MatMul node names of the weight layers, grouped: ``embed``, ``qkv``, ``proj``, ``mlp``,
    ``fuse``, ``pre_logits``, ``head`` (``qkv``: one node per attention, or q, k and v nodes
    with ``contrib_attention``)."""
    groups: dict[str, list[str]] = {k: [] for k in ("qkv", "proj", "mlp", "fuse")}
    qkv = ("q", "k", "v") if contrib_attention else ("qkv",)
    for i in range(config.depth):
        for stream in ("blocks_st", "blocks_ts"):
            for s in ("s", "t"):
                groups["qkv"] += [f"{stream}.{i}.attn_{s}.{n}" for n in qkv]
                groups["proj"].append(f"{stream}.{i}.attn_{s}.proj")
                groups["mlp"] += [f"{stream}.{i}.mlp_{s}.fc1", f"{stream}.{i}.mlp_{s}.fc2"]
        groups["fuse"].append(f"ts_attn.{i}")
    return {"embed": ["joints_embed"], **groups, "pre_logits": ["pre_logits"], "head": ["head"]}
