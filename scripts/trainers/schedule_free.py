"""Schedule-Free SGD and AdamW: A. Defazio, X. Yang, H. Mehta, K. Mishchenko, A. Khaled, A. Cutkosky,
"The Road Less Scheduled", NeurIPS 2024 (the winner of AlgoPerf 2024's self-tuning track). Written here
from the paper's equations, with γ_t the LR of step t (t = 1, 2, ...) and β the interpolation weight:

    y_t     = (1 − β) z_t + β x_t                    where the gradient g_t = ∇f(y_t) is taken
    z_{t+1} = z_t − γ_t d_t                          d_t = g_t (SGD), or for AdamW
              v_t = β2 v_{t−1} + (1 − β2) g_t²,  d_t = g_t / (sqrt(v_t / (1 − β2^t)) + ε) + λ y_t
    c_{t+1} = γ_t² / Σ_{i≤t} γ_i²                    (0 while every γ so far was 0)
    x_{t+1} = (1 − c_{t+1}) x_t + c_{t+1} z_{t+1}    the model that is evaluated and saved

starting from x_1 = z_1 = the initial weights. Between steps the parameters hold x, so evaluating or
saving the model uses x without a mode switch; begin_step() moves them to y for the forward and
backward pass, and step() moves them back. The whole state (x, z, v per parameter; the step count t
and Σγ² per parameter group) is in state_dict(), so a run split at any step continues exactly.
"""
import torch


class ScheduleFree(torch.optim.Optimizer):
    """The interpolation, the averaging and the state both variants share; subclasses give d_t."""

    def __init__(self, params, defaults):
        super().__init__(params, {**defaults, "step": 0, "lr_sq_sum": 0.0})
        self._at_y = False

    @torch.no_grad()
    def begin_step(self):
        """Parameters x → y = (1 − β) z + β x (creating x = z = the parameters on the first call)."""
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["x"] = p.detach().clone()
                    state["z"] = p.detach().clone()
                    self._init_state(state, p)
                p.copy_(state["x"]).lerp_(state["z"], 1.0 - group["beta"])
        self._at_y = True

    @torch.no_grad()
    def step(self, closure=None):
        """One step from the gradients taken at y; leaves the parameters at the new x."""
        if closure is not None:
            raise ValueError("Schedule-Free optimizers take no closure: call begin_step, backward, step")
        if not self._at_y:
            raise RuntimeError("step() without begin_step(): the gradient must be taken at y")
        for group in self.param_groups:
            lr = group["lr"]
            group["step"] += 1
            group["lr_sq_sum"] += lr * lr
            averaging_weight = lr * lr / group["lr_sq_sum"] if group["lr_sq_sum"] > 0 else 0.0
            for p in group["params"]:
                state = self.state[p]
                if p.grad is not None:
                    state["z"].add_(self._direction(p, p.grad, state, group), alpha=-lr)
                state["x"].lerp_(state["z"], averaging_weight)
                p.copy_(state["x"])
        self._at_y = False

    def _init_state(self, state, p):
        pass

    def _direction(self, y, grad, state, group):
        raise NotImplementedError


class ScheduleFreeSGD(ScheduleFree):
    """d_t = g_t: SGD on z, with momentum-like behaviour from the interpolation (β = 0.9 in the paper)."""

    def __init__(self, params, lr, beta=0.9):
        super().__init__(params, {"lr": lr, "beta": beta})

    def _direction(self, y, grad, state, group):
        return grad


class ScheduleFreeAdamW(ScheduleFree):
    """d_t = g_t / (sqrt(v̂_t) + ε) + λ y_t: Adam's bias-corrected second moment, decoupled weight decay
    taken at y. β plays the part of Adam's β1 (the paper uses 0.9)."""

    def __init__(self, params, lr, beta=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(params, {"lr": lr, "beta": beta, "beta2": beta2, "eps": eps, "weight_decay": weight_decay})

    def _init_state(self, state, p):
        state["v"] = torch.zeros_like(p, memory_format=torch.preserve_format)

    def _direction(self, y, grad, state, group):
        beta2 = group["beta2"]
        state["v"].mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        denominator = (state["v"] / (1.0 - beta2 ** group["step"])).sqrt_().add_(group["eps"])
        direction = grad / denominator
        if group["weight_decay"] != 0:
            direction.add_(y, alpha=group["weight_decay"])
        return direction
