"""SMPLify-style torch L-BFGS sequence fitting: the baseline of ``experiments.bench_fitting``.

Same model arrays, terms, stages and initialisation as ``body_models.fitting`` (see there), but
optimised as SMPLify/SMPLify-X do: ``torch.optim.LBFGS`` with strong-Wolfe line search on all
free parameters of all frames jointly, stage by stage.
"""

from __future__ import annotations

import numpy as np
import torch

from body_models.fitting import priors
from body_models.fitting.init import init_global, prepare_targets
from body_models.fitting.smoothness import rate_scaled
from body_models.forward import BodyForward
from body_models.lbs import keypoint_vertices
from wholebody.keypoints import COCO_WHOLEBODY, SMPLX


def _rodrigues(aa: torch.Tensor) -> torch.Tensor:
    theta = torch.sqrt((aa * aa).sum(-1, keepdim=True) + 1e-12)
    k = aa / theta
    x, y, z = k.unbind(-1)
    zero = torch.zeros_like(x)
    K = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(aa.shape + (3,))
    s, c = torch.sin(theta)[..., None], torch.cos(theta)[..., None]
    return torch.eye(3) + s * K + (1 - c) * (K @ K)


class TorchBody:
    """Keypoint-subset LBS in torch (the same arrays as ``body_models.lbs``)."""

    def __init__(self, model, num_betas: int):
        ids = keypoint_vertices(model)
        f = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
        S = min(num_betas, model.num_betas)
        self.jt = f(model.J_regressor @ model.v_template)
        self.jsd = f(np.einsum("jv,vcs->jcs", model.J_regressor, model.shapedirs[..., :S]))
        self.jed = f(np.einsum("jv,vcs->jcs", model.J_regressor, model.exprdirs))
        self.vt, self.sd = f(model.v_template[ids]), f(model.shapedirs[ids][..., :S])
        self.ed = f(model.exprdirs[ids])
        self.pd = f(model.posedirs[ids].reshape(-1, 486).T)
        self.w = f(model.weights[ids])
        self.parents = [int(p) for p in model.parents]
        lookup = np.full(model.num_vertices, -1)
        lookup[ids] = np.arange(len(ids))
        surf = model.kpt_joint_ids < 0
        tri = np.zeros((133, 3), dtype=np.int64)
        tri[surf] = lookup[model.faces[model.kpt_face_ids[surf]]]
        self.tri, self.bary = torch.as_tensor(tri), f(model.kpt_bary)
        self.jid = torch.as_tensor(np.maximum(model.kpt_joint_ids, 0))
        self.is_joint = torch.as_tensor(~surf)

    def keypoints(self, betas, expr, pose, transl):
        T = pose.shape[0]
        rest = self.jt + torch.einsum("jcs,s->jc", self.jsd, betas)
        rest = rest + torch.einsum("jcs,bs->bjc", self.jed, expr)
        v = self.vt + torch.einsum("vcs,s->vc", self.sd, betas)
        v = v + torch.einsum("vcs,bs->bvc", self.ed, expr)
        rot = _rodrigues(pose)
        v = v + ((rot[:, 1:] - torch.eye(3)).reshape(T, -1) @ self.pd).reshape(v.shape)
        g_rot, g_pos = [rot[:, 0]], [rest[:, 0]]
        for j in range(1, len(self.parents)):
            p = self.parents[j]
            g_rot.append(g_rot[p] @ rot[:, j])
            g_pos.append(g_pos[p] + (g_rot[p] @ (rest[:, j] - rest[:, p])[..., None])[..., 0])
        G, P = torch.stack(g_rot, 1), torch.stack(g_pos, 1)
        t = P - (G @ rest[..., None])[..., 0]
        Tr = torch.einsum("vj,bjmn->bvmn", self.w, G)
        verts = (Tr @ v[..., None])[..., 0] + torch.einsum("vj,bjm->bvm", self.w, t)
        surf = torch.einsum("bkam,ka->bkm", verts[:, self.tri], self.bary)
        kp = torch.where(self.is_joint[None, :, None], P[:, self.jid], surf)
        return kp + transl[:, None]


def _gm(sq, sigma):
    return sigma**2 * sq / (sigma**2 + sq)


def fit_lbfgs(model, keypoints3d, scores, cfg, iters: int = 30, fps: float = 30.0) -> np.ndarray:
    """Fit with torch L-BFGS; returns the fitted ``(T, 133, 3)`` keypoints."""
    target_np, conf_np = prepare_targets(keypoints3d, scores)
    T = target_np.shape[0]
    body = TorchBody(model, cfg.num_betas)
    zero = BodyForward(model)({"transl": np.zeros((1, 3))})
    root = model.J_regressor[0] @ model.v_template
    go, tr = init_global(zero.keypoints[0], root, target_np, conf_np)
    f = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
    target, conf = f(target_np), f(conf_np)
    seen = conf > 0
    vel_w, acc_w = rate_scaled(cfg.velocity_weight, cfg.acceleration_weight, fps)
    # smoothness masks: the keypoint is observed in some frame of the term
    m_vel = (seen[1:] | seen[:-1]).float()
    m_acc = (seen[2:] | seen[1:-1] | seen[:-2]).float()
    groups = {
        "global": f(go).requires_grad_(),
        "transl": f(tr).requires_grad_(),
        "body": torch.zeros(T, 21, 3, requires_grad=True),
        "jaw": torch.zeros(T, 1, 3, requires_grad=True),
        "hands": torch.zeros(T, 30, 3, requires_grad=True),
        "expression": torch.zeros(T, model.num_expression, requires_grad=True),
        "betas": torch.zeros(body.jsd.shape[2], requires_grad=True),
    }
    hinge_idx = [SMPLX.index(j) - 1 for j, _, _ in priors.HINGES]
    hinge_axis = [a for _, a, _ in priors.HINGES]
    hinge_sign = f([s for _, _, s in priors.HINGES])
    u2 = cfg.unit**2
    pca = (cfg.hand_pca_components, cfg.hand_pca_weight, cfg.hand_pca_outside_weight)
    sides = (model.hands_components_l, model.hands_components_r)
    hand_q = f(np.stack([priors.hand_pca_quadratic(c, *pca) for c in sides]))
    hand_mu = f(np.stack([model.hands_mean_l, model.hands_mean_r]))

    for stage in cfg.stages:
        part_w = torch.zeros(133)
        for part, value in stage.part_weights:
            part_w[COCO_WHOLEBODY.part(part)] = value
        free = [groups[g] for g in stage.free if g in groups]
        opt = torch.optim.LBFGS(free, lr=1.0, max_iter=iters, history_size=10,
                                line_search_fn="strong_wolfe", tolerance_grad=1e-9,
                                tolerance_change=1e-12)  # fmt: skip

        def closure(opt=opt, part_w=part_w, stage=stage):
            opt.zero_grad()
            g = groups
            pose = torch.cat([g["global"][:, None], g["body"], g["jaw"], torch.zeros(T, 2, 3),
                              g["hands"]], 1)  # fmt: skip
            kp = body.keypoints(g["betas"], g["expression"], pose, g["transl"])
            sq = ((kp - target) ** 2).sum(-1)
            loss = (conf * part_w * _gm(sq, cfg.robust_sigma)).sum(-1) / u2
            loss = loss + cfg.pose_weight * (g["body"] ** 2).sum((-1, -2))
            hv = g["body"][:, hinge_idx, hinge_axis] * hinge_sign
            loss = loss + cfg.hinge_weight * (torch.clamp(hv, max=0.0) ** 2).sum(-1)
            excess = torch.clamp(g["body"].abs() - cfg.angle_limit, min=0.0)
            loss = loss + cfg.limit_weight * (excess**2).sum((-1, -2))
            loss = loss + cfg.hand_weight * (g["hands"] ** 2).sum((-1, -2))
            d = g["hands"].reshape(T, 2, 45) - hand_mu  # hand PCA prior, left and right
            loss = loss + torch.einsum("tsi,sij,tsj->t", d, hand_q, d)
            loss = loss + cfg.jaw_weight * (g["jaw"] ** 2).sum((-1, -2))
            loss = loss + cfg.expression_weight * (g["expression"] ** 2).sum(-1)
            total = loss.mean() + cfg.shape_weight * (g["betas"] ** 2).sum()
            if stage.smooth and T > 2:
                vel = ((kp[1:] - kp[:-1]) ** 2).sum(-1)
                acc = ((kp[2:] - 2 * kp[1:-1] + kp[:-2]) ** 2).sum(-1)
                sm = vel_w * (m_vel * vel).sum() + acc_w * (m_acc * acc).sum()
                total = total + sm / (u2 * T)
            total.backward()
            return total

        opt.step(closure)
    with torch.no_grad():
        g = groups
        pose = torch.cat([g["global"][:, None], g["body"], g["jaw"], torch.zeros(T, 2, 3),
                          g["hands"]], 1)  # fmt: skip
        return body.keypoints(g["betas"], g["expression"], pose, g["transl"]).numpy()
