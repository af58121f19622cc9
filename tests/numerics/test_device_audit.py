"""Device audit without a GPU (issue 14): the hot numerics run on a *fake* accelerator and must never mix in a
CPU tensor.

No GPU is lent to most sessions, so the CUDA paths are also checked here, on every CI run: a Python-registered
``privateuse1`` device ("fakegpu", reported unavailable so nothing is ever allocated on it) under PyTorch's
``FakeTensorMode``, which propagates shapes, dtypes and devices through every op with meta kernels and
raises ``FakeTensorDeviceMismatchError`` where an op mixes a device tensor with a (non-scalar) CPU tensor --
the error a real CUDA run would raise. Data-dependent code (``bool(t)``, ``.item()``, the adaptive
integrator's loop) has no values there and is left to ``tests/numerics/test_device_cuda.py``; what runs
here is straight-line code: the full-model gradient, the effective field (7), one Dormand-Prince trial step,
gong-2025's fused GD step and losses, and one AdamW training step of the §5 model. A planted CPU tensor
shows the audit can fail.

The device registration is process-global and cannot be undone, so the audit runs in a subprocess.
"""

import json
import subprocess
import sys

AUDIT = r'''
import json, sys, torch
import torch.utils.backend_registration as br
from torch._subclasses.fake_tensor import FakeTensorMode


class Unavailable(br._DummyBackendModule):
    def is_available(self):  # FakeTensorMode then never tries to allocate on the device (avoid_device_init)
        return False


br._setup_privateuseone_for_python_backend("fakegpu", backend_module=Unavailable())
D = torch.device("fakegpu")
mode = FakeTensorMode(allow_non_fake_inputs=True)


def fake(t):
    return torch.empty(t.shape, dtype=t.dtype, device=D)


def grad_exact():
    from twostage.numerics.chen_luo.backprop import grad_exact
    from twostage.numerics.chen_luo.data import DataConfig, make_data
    from twostage.numerics.chen_luo.init import InitConfig, init_params
    from twostage.numerics.chen_luo.model import Params

    ds = make_data(DataConfig(5, 3, 4, seed=1))
    p = init_params(InitConfig(d=4, eps=0.5, B=3, seed=2))

    def run():  # CPU data: grad_exact moves it to the parameters' device
        L, g = grad_exact(Params(*map(fake, p)), ds.X, ds.y)
        return [L, *g]

    return run


def effective_field():
    from twostage.numerics.chen_luo import effective as eff

    return lambda: [eff.field(fake(torch.zeros(3, 24, dtype=torch.float64)))]


def rk_trial_step():
    from twostage.numerics.chen_luo import effective as eff
    from twostage.numerics.integrate import Tableau, rk_step, time_reparametrised

    def run():
        y, t = fake(torch.zeros(3, 25, dtype=torch.float64)), fake(torch.zeros(3, dtype=torch.float64))
        rhs = time_reparametrised(lambda th, idx, out=None: eff.field(th, out), f_writes_out=True)
        return list(rk_step(rhs, t, y, fake(y), fake(t), fake(t), torch.arange(3, device=D),
                            Tableau.on(torch.float64, D), 1e-9, 1e-12))

    return run


def gong_step():
    from twostage.numerics.gong.setting import GongConfig, init_params, losses, sample, step_terms

    cfg, g = GongConfig(), torch.Generator().manual_seed(0)
    data, params = sample(cfg, 2, generator=g), init_params(cfg, 2, generator=g)

    def run():
        d, p = [fake(x) for x in data], [fake(x) for x in params]
        ls, grads = step_terms(p, *d)
        return [*ls.values(), *grads, *losses(p, *d).values()]

    return run


def adamw_step():
    from twostage.numerics.chen_luo.gptlite import GPTConfig, GPTLite, last_token_loss

    cfg = GPTConfig(vocab=11, seq_len=4, d_model=8, d_ff=16, init_std=0.1)
    m = GPTLite(cfg, torch.Generator().manual_seed(0))

    def run():
        for k, q in list(m.layers.items()):  # Module.to() cannot swap fake parameters; move them one by one
            m.layers[k] = torch.nn.Parameter(q.detach().to(D), requires_grad=q.requires_grad)
        for k in ("embed", "unembed", "pos"):
            q = getattr(m, k)
            setattr(m, k, torch.nn.Parameter(q.detach().to(D), requires_grad=q.requires_grad))
        x = torch.zeros(3, 4, dtype=torch.long, device=D)
        loss = last_token_loss(m, x, torch.zeros(3, dtype=torch.long, device=D))
        loss.backward()
        params = [q for q in m.parameters() if q.requires_grad]
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        torch.optim.AdamW(params, lr=1e-3).step()
        return [loss, *params]

    return run


def planted():  # a wrong "fast path": a CPU tensor mixed into device work
    return lambda: [fake(torch.zeros(3, 4)) + torch.ones(3, 4)]


out = {}
for fn in (grad_exact, effective_field, rk_trial_step, gong_step, adamw_step, planted):
    try:
        run = fn()  # set-up (real CPU tensors) outside the mode, the audited work inside it
        with mode:
            res = run()
        devices = sorted({str(t.device) for t in res if isinstance(t, torch.Tensor)})
        out[fn.__name__] = {"ok": True, "devices": devices}
    except Exception as exc:  # noqa: BLE001 - reported to the test
        out[fn.__name__] = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
print(json.dumps(out))
'''


def audit() -> dict:
    res = subprocess.run([sys.executable, "-c", AUDIT], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_hot_paths_stay_on_the_device_and_a_planted_cpu_tensor_is_caught():
    out = audit()
    for name in ("grad_exact", "effective_field", "rk_trial_step", "gong_step", "adamw_step"):
        assert out[name]["ok"], (name, out[name])
        assert out[name]["devices"] == ["fakegpu:0"], (name, out[name])
    assert not out["planted"]["ok"]
    assert "FakeTensorDeviceMismatchError" in out["planted"]["error"], out["planted"]
