r"""Statements and notes as text with inline ``$...$`` math, for the PDF, ``twostage latex`` and the report.

A claim's ``statement`` (and ``note``) is prose; most write their math as inline LaTeX (``$E(t_0)>0$``),
but some -- the gong-2025 ones in particular -- write it in ASCII (``T_P < T_Q``, ``eps_{W,1}``,
``e^eps-1``), which would be printed as text (``e\textasciicircum{}eps``). :data:`MARKUP` lists, per claim
or assumption id, ``(ascii fragment, marked text)`` pairs; :func:`statement_text` and :func:`note_text`
return the registered text with each fragment replaced by its marked form (inline math between ``$``).
The registered statement is not changed (it is what ``claims --json`` and the verdict store show), and the
formulas are untouched: this is printing only.

A fragment that no longer occurs in the registered text is an error (``ValueError``), so that a
statement edited in ``theory/`` cannot silently lose its math; ``tests/theory/test_latex_statements.py``
checks every registered claim and assumption, and that no ASCII math (``^``, ``T_P``, ``<=``, ``||``,
``->``) is left in the text of any of them.

>>> mark_math("P before Q: T_P < T_Q, mostly.", (("T_P < T_Q", "$T_P<T_Q$"),))
'P before Q: $T_P<T_Q$, mostly.'
>>> split_math(r"cost \$5 when $x>0$")
[(False, 'cost $5 when '), (True, 'x>0')]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

DOLLAR = "\x00"  # a literal dollar sign while splitting into text/math segments
_MARK = "\x01"  # the ``$`` of a marked fragment while it is spliced in


def split_raw(text: str) -> list[str]:
    """Split on unescaped ``$`` into alternating text/math segments (a literal ``\\$`` becomes
    :data:`DOLLAR`); an unmatched ``$`` is text."""
    parts, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] == "$":
            cur.append(DOLLAR)
            i += 2
            continue
        if ch == "$":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    if len(parts) % 2 == 0:  # unmatched $: glue the tail back as text
        parts[-2] = parts[-2] + DOLLAR + parts[-1]
        parts.pop()
    return parts


def split_math(text: str) -> list[tuple[bool, str]]:
    """``(is_math, content)`` segments of ``text`` (empty ones dropped; literal dollars restored)."""
    return [(k % 2 == 1, seg.replace(DOLLAR, "$")) for k, seg in enumerate(split_raw(text)) if seg]


def mark_math(text: str, pairs: Iterable[tuple[str, str]]) -> str:
    """Replace, in the text (not math) segments of ``text``, the first occurrence of each ASCII fragment
    by its marked form; ``ValueError`` (stale markup) if a fragment is not found."""
    for ascii_, marked in pairs:
        parts = split_raw(text)
        for k in range(0, len(parts), 2):
            if ascii_ in parts[k]:
                parts[k] = parts[k].replace(ascii_, marked.replace("$", _MARK), 1)
                break
        else:
            raise ValueError(f"stale markup: fragment {ascii_!r} not found in {text!r}")
        text = _join(parts)
    return text


def _join(parts: Sequence[str]) -> str:
    """Inverse of :func:`split_raw` (spliced-in fragments carry :data:`_MARK` for their own ``$``)."""
    out = []
    for k, seg in enumerate(parts):
        seg = seg.replace(DOLLAR, "\\$").replace(_MARK, "$")
        out.append(f"${seg}$" if k % 2 == 1 else seg)
    return "".join(out)


def statement_text(claim) -> str:  # noqa: ANN001 (Claim or Assumption)
    """The statement with its ASCII math marked as inline math (unchanged when there is no markup)."""
    return mark_math(claim.statement, MARKUP.get(claim.id, ()))


def note_text(claim) -> str:  # noqa: ANN001
    """The note with its ASCII math marked as inline math."""
    return mark_math(getattr(claim, "note", "") or "", NOTE_MARKUP.get(claim.id, ()))


G, C = "gong-2025", "chen-luo-2025"

MARKUP: dict[str, tuple[tuple[str, str], ...]] = {
    f"{G}/setting/gd-updates": (
        ("dl/ds^B_l", r"$\partial\ell/\partial s^B_l$"),
        ("x_B x_{B,l}^T", r"$x_B\,x_{B,l}^\top$"),
    ),
    f"{G}/derived/init-gradient": (
        ("sigma0 -> 0", r"$\sigma_0\to0$"),
        ("-(1/4) m1^2 w* w*^T", r"$-\tfrac14\,m_1^2\,w^\star w^{\star\top}$"),
        ("(m1 = gamma0 + sigma sqrt(2/pi))", r"($m_1=\gamma_0+\sigma\sqrt{2/\pi}$)"),
        ("and 0 on", "and $0$ on"),
    ),
    f"{G}/derived/stage1-time": (
        ("reaches eps no", r"reaches $\epsilon$ no"),
        ("t_P(eps) = 8 log(1/(e^eps-1))/(eta1 m1^4)",
         r"$t_P(\epsilon)=8\log\bigl(1/(e^{\epsilon}-1)\bigr)/(\eta_1m_1^4)$"),
    ),
    f"{G}/derived/stage1-time-scaling": (
        ("T_P ~ eta1^(-1)", r"$T_P\propto\eta_1^{-1}$"),
        ("t_P(eps)", r"$t_P(\epsilon)$"),
    ),
    f"{G}/earlier/K1-bound": (
        ("K^1 at t1", r"$K^1$ at $t_1$"),
        ("(K1 of the 'parallel' coupling, the variant where K^1 is defined)",
         r"($K_1$ of the 'parallel' coupling, the variant where $K^1$ is defined)"),
        ("is <= eps_{W,1} + (sqrt(d) log d / L) eps_W + 1/sqrt(log d) at the run's d = d_p and L, with "
         "eps_W = L^(2/3) and eps_{W,1} = 0.",
         r"is $\le\epsilon_{W,1}+\frac{\sqrt d\log d}{L}\epsilon_W+\frac{1}{\sqrt{\log d}}$ at the run's "
         r"$d=d_p$ and $L$, with $\epsilon_W=L^{2/3}$ and $\epsilon_{W,1}=0$."),
    ),
    f"{G}/earlier/K1-proof-step": (
        ("max(log 2 - x/2, log 2 + x/2) <= x with x = eps_{W,1} + (sqrt(d) log d / L) eps_W",
         r"$\max(\log2-x/2,\log2+x/2)\le x$ with $x=\epsilon_{W,1}+\frac{\sqrt d\log d}{L}\epsilon_W$"),
        ("is >= log 2", r"is $\ge\log2$"),
        ("x < 2 log 2", r"$x<2\log2$"),
    ),
    f"{G}/stage/ordering": (
        ("T_P < T_Q, where T_P (T_Q)", "$T_P<T_Q$, where $T_P$ ($T_Q$)"),
        ("accuracy >= 0.95 (0.9)", r"accuracy $\ge0.95$ ($0.9$)"),
    ),
    f"{G}/stage/q-suppression": (
        ("A_P(t1) >= 0.95 and A_Q(t1) <= 0.65", r"$A_P(t_1)\ge0.95$ and $A_Q(t_1)\le0.65$"),
    ),
    f"{G}/stage/p-preservation": (
        ("min over t in [t1, T] of A_P(t) >= 0.95", r"$\min_{t\in[t_1,T]}A_P(t)\ge0.95$"),
    ),
    f"{G}/stage/q-after-annealing": (
        ("A_Q(T) >= 0.9 and A_P(T) >= 0.95 at the last step T", r"$A_Q(T)\ge0.9$ and $A_P(T)\ge0.95$ at the "
         r"last step $T$"),
    ),
    f"{G}/stage/annealing-ablation": (
        ("(eta2 throughout)", r"($\eta_2$ throughout)"),
        ("median T_P(schedule) < median T_P(annealed from 0), T_P the first step with held-out P "
         "accuracy >= 0.95",
         r"$\operatorname{median}T_P(\text{schedule})<\operatorname{median}T_P(\text{annealed from }0)$, "
         r"$T_P$ the first step with held-out P accuracy $\ge0.95$"),
    ),
    f"{G}/derived/p-signal-growth": (
        ("S_P = w*^T W_P w*", r"$S_P=w^{\star\top}W_Pw^\star$"),
        ("DeltaH m1^2 sigmoid(-x0 S_P), x0 = gamma0 m1/2, DeltaH",
         r"$\Delta H\,m_1^2\,\mathrm{sigmoid}(-x_0S_P)$, $x_0=\gamma_0m_1/2$, $\Delta H$"),
        ("x0 S_P >> 1", r"$x_0S_P\gg1$"),
    ),
    f"{G}/derived/q-signal-growth": (
        ("S_Q = |u^T W_Q u|", r"$S_Q=|u^\top W_Qu|$"),
        ("R_Q = q_scale^2 (mu/4)(sigmoid(b0) nu_- - sigmoid(-b0) nu_+)",
         r"$R_Q=q_{\rm scale}^2\frac{\mu}{4}(\mathrm{sigmoid}(b_0)\nu_--\mathrm{sigmoid}(-b_0)\nu_+)$"),
        ("f_Q = b0 (the rate decreases as f_Q falls)", r"$f_Q=b_0$ (the rate decreases as $f_Q$ falls)"),
    ),
    f"{G}/derived/q-stage-time": (
        ("t_Q = T1 + (S_*/R_Q - eta1 T1)/eta2", r"$t_Q=T_1+(S_\star/R_Q-\eta_1T_1)/\eta_2$"),
        ("S_* = 2 b0/(q_scale^2 nu_- mu)", r"$S_\star=2b_0/(q_{\rm scale}^2\nu_-\mu)$"),
        ("(T_Q: first step with held-out Q accuracy >= 0.9;",
         r"($T_Q$: first step with held-out Q accuracy $\ge0.9$;"),
    ),
    f"{G}/derived/q-stage-time-scaling": (
        ("T_Q ~ q_scale^(-4)", r"$T_Q\sim q_{\rm scale}^{-4}$"),
        ("(from S_*/(eta R_Q); exact by the rescaling W~ = q_scale^2 W_Q)",
         r"(from $S_\star/(\eta R_Q)$; exact by the rescaling $\tilde W=q_{\rm scale}^2W_Q$)"),
    ),
    f"{G}/spectral/block-order": (
        ("W = diag(W_P, W_Q)", r"$W=\operatorname{diag}(W_P,W_Q)$"),
        ("(sigma_max(W_Q) > sigma_max(W_P))", r"($\sigma_{\max}(W_Q)>\sigma_{\max}(W_P)$)"),
        ("kappa = 1/16 of the 2 d", r"$\kappa=1/16$ of the $2d$"),
        ("d_p = d_q = 8", "$d_p=d_q=8$"),
    ),
    f"{G}/ass/data": (
        ("p = gamma0 y w* + sigma z, z ~ N(0,I)",
         r"$p=\gamma_0\,y\,w^\star+\sigma z$, $z\sim\mathcal N(0,I)$"),
        ("y<w*,z> >= 0, |w*| = 1", r"$y\langle w^\star,z\rangle\ge0$, $\|w^\star\|=1$"),
        ("q = sigma z' + (y=-1) * (+-zeta) * 1", r"$q=\sigma z'+[y=-1]\,(\pm\zeta)\,\mathbf 1$"),
        ("w.p. 1/2", r"w.p. $1/2$"),
        ("{-1,+1}", r"$\{-1,+1\}$"),
    ),
    f"{G}/ass/model": (
        ("W = diag(W_P, W_Q), ReLU(scores)/L",
         r"$W=\operatorname{diag}(W_P,W_Q)$, $\mathrm{ReLU}(\text{scores})/L$"),
        ("scalar bias b", "scalar bias $b$"),
    ),
    f"{G}/ass/schedule": (
        ("W ~ sigma0 N(0,1) entries; eta = eta1 for",
         r"$W\sim\sigma_0\,\mathcal N(0,1)$ entries; $\eta=\eta_1$ for"),
        ("then eta = eta2 = anneal * eta1 from t1 on; t1 is a fixed step T1",
         r"then $\eta=\eta_2=\mathrm{anneal}\cdot\eta_1$ from $t_1$ on; $t_1$ is a fixed step $T_1$"),
        ("P-loss <= eps1", r"P-loss $\le\epsilon_1$"),
    ),
    f"{G}/ass/factset": (("-> 3", r"$\to$ 3"),),
    f"{G}/ass/gpt2-architecture": (("d = 768", "$d=768$"),),
    f"{G}/ass/rank-reduction": (
        ("k = floor(min(m, n)(10 - r)/10), r in 0..9",
         r"$k=\lfloor\min(m,n)(10-r)/10\rfloor$, $r\in\{0,\dots,9\}$"),
    ),
}

NOTE_MARKUP: dict[str, tuple[tuple[str, str], ...]] = {
    f"{G}/stage/q-suppression": (
        ("Q <= 0.65 at t1", r"$Q\le0.65$ at $t_1$"),
        ("rho = eta1 T1 R_Q / S_*", r"$\rho=\eta_1T_1R_Q/S_\star$"),
        ("1.00 for rho <= 0.79", r"1.00 for $\rho\le0.79$"),
        ("0.88 down to 0 for rho >= 0.96", r"0.88 down to 0 for $\rho\ge0.96$"),
        ("The new box has rho <= 0.76", r"The new box has $\rho\le0.76$"),
    ),
    f"{G}/realdata/type-exact-gap": (
        ("(T_type < T_exact)", r"($T_{type}<T_{exact}$)"),
        ("exact accuracy >= 0.9", r"exact accuracy $\ge0.9$"),
    ),
    f"{G}/earlier/K1-bound": (
        ("(L = Poly(d))", r"($L=\mathrm{Poly}(d)$)"),
        ("eps_W = L^(2/3), eps_{W,1} = 0 are", r"$\epsilon_W=L^{2/3}$, $\epsilon_{W,1}=0$ are"),
    ),
    f"{G}/earlier/K1-proof-step": (("L = d^a, eps_W = L^(2/3)", r"$L=d^a$, $\epsilon_W=L^{2/3}$"),),
    f"{G}/spectral/block-order": (
        ("(W_P ~ w* w*^T, W_Q ~ u u^T)", r"($W_P\approx w^\star w^{\star\top}$, $W_Q\approx uu^\top$)"),
    ),
    f"{C}/thm1/edot-lower": (
        ("(must be 1/3)", r"(must be $1/3$)"),
        ("E < 0", "$E<0$"),
        ("3|E|^{4/3}", "$3|E|^{4/3}$"),
    ),
    f"{C}/prop4/derivative-identities": (
        ("W2_i W_v W1^i", r"$W^{[2]}_iW_vW^{[1],i}$"),
        ("dW_{v,i}^2", r"$\dot W_{v,i}^2$"),
        ("entries of W_v", "entries of $W_v$"),
        ("dW2_i^2 and ||W_v||^2 W2_i^2", r"$(\dot W^{[2]}_i)^2$ and $\|W_v\|^2(W^{[2]}_i)^2$"),
    ),
    f"{C}/thm1/velocity-difference": (
        ("dot W1 is printed as W_v^T W2 instead of W_v^T W2^T",
         r"$\dot W^{[1]}$ is printed as $W_v^\top W^{[2]}$ instead of $W_v^\top W^{[2]\top}$"),
        ("ddot W2 ends in W1_k' instead of W2_k'",
         r"$\ddot W^{[2]}$ ends in $W^{[1]}_{k'}$ instead of $W^{[2]}_{k'}$"),
        ("||W2(0)||^2 - ||W_v(0)||^2", r"$\|W^{[2]}(0)\|^2-\|W_v(0)\|^2$"),
    ),
    f"{C}/stage2/loss-factorisation": (
        ("1/s in L_2", r"$\frac1s$ in $\mathcal L_2$"),
        ("O(delta^2)", r"$O(\delta^2)$"),
    ),
    f"{C}/stage2/collapse-rate": (
        ("e^{-(sigma1-sigma2)t}", r"$e^{-(\sigma_1-\sigma_2)t}$"),
        ("(sigma2/sigma1)^2", r"$(\sigma_2/\sigma_1)^2$"),
    ),
}
