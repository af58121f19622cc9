"""gong-2025 real-data pipeline (topic ``realdata``, §7.2, §7.4): fact set, GPT-2 model, padding, training
(and the official script's bookkeeping: fixed order, online accuracy), rank reduction, the experiments, and
the check of ``realdata/type-exact-gap`` (with sabotaged trajectories and edited formulas)."""

import dataclasses
import json

import numpy as np
import pytest
import sympy as sp
import torch

from twostage.errors import UnknownClaimError
from twostage.experiments import gong_realdata as gr
from twostage.numerics.config import ConfigError
from twostage.numerics.gong import factset as fs
from twostage.numerics.gong import rank_reduction as rr
from twostage.numerics.gong import realdata as cf
from twostage.numerics.gong.gpt2lite import GPT2Config, GPT2Lite, from_hf_state, load_checkpoint
from twostage.theory.claims import load_all
from twostage.theory.gong.realdata import gap_constants
from twostage.verify.check import Context
from twostage.verify.checks import load_checkers
from twostage.verify.checks.gong import realdata as gcr
from twostage.verify.profiles import get_profile
from twostage.verify.verdict import Status

RECS = fs.generate(fs.FactSetConfig(relations=3, subjects_per_relation=4), seed=1)
TOK = fs.WordTokenizer.build(RECS)


def _model(n_layer=2, d=16, vocab=None, seed=0):
    torch.manual_seed(seed)
    return GPT2Lite(GPT2Config(vocab_size=vocab or len(TOK), n_positions=16, n_embd=d, n_layer=n_layer,
                               n_head=2))


# ---- data -----------------------------------------------------------------------------------------

def test_records_have_counterfact_format_and_three_pairs(tmp_path):
    rec = RECS[0]
    rw = rec["requested_rewrite"]
    assert "{}" in rw["prompt"] and rw["subject"] not in rw["prompt"]
    assert {"str"} <= set(rw["target_true"]) and rw["target_new"]["str"] != rw["target_true"]["str"]
    assert len(rec["paraphrase_prompts"]) == 2 and all(rw["subject"] in p for p in rec["paraphrase_prompts"])
    prs = fs.pairs(RECS)
    assert len(prs) == 3 * len(RECS)
    assert prs[0][0] == rw["prompt"].format(rw["subject"]) and prs[0][1] == " " + rw["target_true"]["str"]
    assert all(len(TOK.encode(a)) == 1 for _, a, _ in prs)  # single-token answers
    types = fs.answer_types(RECS)
    assert all(a in fs.RELATIONS[i][2] for i, (rel, ans) in enumerate(types.items())
               for a in ans) or set(types) == {r for r, _, _ in fs.RELATIONS[:3]}
    path = tmp_path / "cf.json"
    path.write_text(json.dumps(RECS))
    assert fs.load_records(path) == RECS
    path.write_text(json.dumps([{"requested_rewrite": {"prompt": "no placeholder"}}]))
    with pytest.raises(ConfigError, match="record 0"):
        fs.load_records(path)


def test_answer_entropy_is_the_syntax_only_optimum():
    """H(answer | relation) equals the loss of the best relation-only (subject-blind) predictor."""
    enc = cf.encode(RECS, TOK)
    logp = torch.full((len(enc.relations), len(TOK)), -1e9, dtype=torch.float64)
    for r in range(len(enc.relations)):
        counts = torch.bincount(enc.target[enc.rel == r], minlength=len(TOK)).double()
        logp[r] = torch.where(counts > 0, (counts / counts.sum()).log(), logp[r])
    assert abs(float(-logp[enc.rel, enc.target].mean()) - fs.answer_entropy(RECS)) < 1e-12


# ---- padding (the official code's right-padding quirk) --------------------------------------------------

def test_right_padding_scores_a_pad_token_left_padding_is_correct():
    right, left = cf.encode(RECS, TOK, padding="right"), cf.encode(RECS, TOK, padding="left")
    lengths = right.mask.sum(1)
    short = lengths < lengths.max()
    assert short.any()
    # right padding: for every prompt shorter than the longest, the "last position" holds a pad token
    assert (right.ids[short, -1] == TOK.PAD).all() and not right.mask[short, -1].any()
    # left padding: the last position is always the prompt's own last token
    assert left.mask[:, -1].all()
    assert all(int(left.ids[i, -1]) == TOK.encode(q)[-1] for i, (q, _, _) in enumerate(fs.pairs(RECS)))
    m = _model().eval()
    with torch.no_grad():
        ref = torch.stack([m(torch.tensor([TOK.encode(q)]))[0, -1] for q, _, _ in fs.pairs(RECS)])
        got_left = m(left.ids, left.mask)[:, -1]
        got_right = m(right.ids, right.mask)[:, -1]
    assert torch.allclose(got_left, ref, atol=1e-5)  # left padding: exactly the unpadded prompt's logits
    assert not torch.allclose(got_right[short], ref[short], atol=1e-3)  # right padding: a pad position's


# ---- model ----------------------------------------------------------------------------------------

def test_gpt2_parameter_names_and_conv1d_layout():
    sd = _model(n_layer=2, d=16).state_dict()
    assert sd["h.1.attn.c_attn.weight"].shape == (16, 48) and sd["h.1.attn.c_proj.weight"].shape == (16, 16)
    assert sd["h.0.mlp.c_fc.weight"].shape == (16, 64) and sd["h.0.mlp.c_proj.weight"].shape == (64, 16)
    assert {"wte.weight", "wpe.weight", "ln_f.weight", "h.0.ln_1.bias", "h.0.ln_2.weight"} <= set(sd)
    assert not any("lm_head" in k for k in sd)  # tied head


def test_stacked_vmap_forward_equals_per_seed_module():
    enc = cf.encode(RECS, TOK)
    cfg = GPT2Config(vocab_size=len(TOK), n_positions=16, n_embd=16, n_layer=2, n_head=2)
    base, params = cf.init_stacked(cfg, 3, torch.Generator().manual_seed(0))
    with torch.no_grad():
        got = cf.last_logits(base, params, enc.ids[:5], enc.mask[:5], shared=True)
        for s in range(3):
            m = GPT2Lite(cfg)
            m.load_state_dict({k: v[s] for k, v in params.items()})
            assert torch.allclose(got[s], m(enc.ids[:5], enc.mask[:5])[:, -1], atol=1e-6)
    assert not torch.allclose(got[0], got[1])  # seeds are initialised independently


def test_adamw_matches_torch_optim():
    torch.manual_seed(0)
    a = [torch.randn(3, 4, dtype=torch.float64, requires_grad=True), torch.randn(5, dtype=torch.float64,
                                                                                   requires_grad=True)]
    b = [t.detach().clone().requires_grad_(True) for t in a]
    o1, o2 = cf.AdamW(a, lr=1e-2, weight_decay=0.01), torch.optim.AdamW(b, lr=1e-2, weight_decay=0.01)
    for step in range(15):
        for ps, o in ((a, o1), (b, o2)):
            o.zero_grad()
            sum(((p - 1) ** 4).sum() * (step + 1) for p in ps).backward()
            o.step()
    assert all(torch.allclose(x, y, rtol=1e-12, atol=1e-14) for x, y in zip(a, b))


def _hf_state(model):
    sd = {"transformer." + k: v.clone() for k, v in model.state_dict().items()}
    sd["lm_head.weight"] = sd["transformer.wte.weight"]
    for i in range(model.cfg.n_layer):
        sd[f"transformer.h.{i}.attn.bias"] = torch.ones(1, 1, 16, 16).tril()  # causal-mask buffer of old HF
    return sd


def _write_safetensors(path, sd):
    header, blobs, off = {}, [], 0
    for k, v in sd.items():
        b = v.contiguous().float().numpy().tobytes()
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    path.write_bytes(len(h).to_bytes(8, "little") + h + b"".join(blobs))


@pytest.mark.parametrize("fmt", ["bin", "safetensors"])
def test_load_local_checkpoint_folder(tmp_path, fmt):
    m = _model(n_layer=2, d=16).eval()
    cfg = {"vocab_size": len(TOK), "n_positions": 16, "n_embd": 16, "n_layer": 2, "n_head": 2,
           "resid_pdrop": 0.1}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    sd = _hf_state(m)
    if fmt == "bin":
        torch.save(sd, tmp_path / "pytorch_model.bin")
    else:
        tied = {k: v for k, v in sd.items() if k != "lm_head.weight"}  # safetensors stores tied weights once
        _write_safetensors(tmp_path / "model.safetensors", tied)
    loaded = load_checkpoint(tmp_path).eval()
    assert loaded.cfg.dropout == 0.1
    ids = torch.tensor([[3, 4, 5, 6]])
    with torch.no_grad():
        assert torch.allclose(loaded(ids), m(ids), atol=1e-6)
    sd["lm_head.weight"] = sd["lm_head.weight"] + 1.0
    with pytest.raises(ConfigError, match="tied"):
        from_hf_state(sd)


def test_matches_transformers_gpt2_when_installed(tmp_path):
    transformers = pytest.importorskip("transformers")
    hc = transformers.GPT2Config(vocab_size=40, n_positions=16, n_embd=16, n_layer=2, n_head=2)
    torch.manual_seed(0)
    hf = transformers.GPT2LMHeadModel(hc).eval()
    hf.save_pretrained(tmp_path)
    ours = load_checkpoint(tmp_path).eval()
    ids, mask = cf.pad([[5, 6, 7, 8, 9], [10, 11]], 0, "left")
    pos = (mask.long().cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        a = hf(input_ids=ids, attention_mask=mask.long(), position_ids=pos).logits
        b = ours(ids, mask)
    assert torch.allclose(a[mask], b[mask], atol=1e-4)


# ---- training -------------------------------------------------------------------------------------

def test_training_metrics_and_type_vs_exact():
    enc = cf.encode(RECS, TOK)
    cfg = GPT2Config(vocab_size=len(TOK), n_positions=16, n_embd=32, n_layer=2, n_head=4)
    res = cf.train(cfg, enc, cf.TrainConfig(epochs=6, lr=3e-3, seeds=2, checkpoints=(3,)))
    assert res["exact"].shape == res["type"].shape == (7, 2) and res["pred"].shape[:2] == (7, 2)
    for k in ("loss", "exact", "type"):
        assert np.isfinite(res[k]).all()
    assert np.isnan(res["loss_train"][0]).all() and np.isfinite(res["loss_train"][1:]).all()
    assert (res["type"] >= res["exact"]).all()  # a right answer is an answer of the right type
    assert (res["loss"][-1] < res["loss"][0]).all()
    assert set(res["checkpoints"]) == {3, "T_type"}
    # official log: (sum of batch means) / N; with batch sizes b_i in [1, 32]: official <= mean <= 32 official
    off, mean = res["loss_official"][1:], res["loss_train"][1:]
    assert (off <= mean).all() and (mean <= 32 * off).all()


def _official_reference(cfg, enc, epochs, lr):
    """The official script's loop, written out for one seed with a plain module and torch's AdamW: pairs in
    data-set order every epoch, top-1 correct counted on each training batch before its update."""
    base, params = cf.init_stacked(cfg, 1, torch.Generator().manual_seed(0))  # the init train() draws
    m = GPT2Lite(cfg)
    m.load_state_dict({k: v[0].detach() for k, v in params.items()})
    m.train()
    opt = torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=0.01)
    N, acc = enc.ids.shape[0], []
    for _ in range(epochs):
        correct = 0
        for a in range(0, N, 8):
            ids, mask = cf._trim(enc.ids[a:a + 8], enc.mask[a:a + 8])
            logits = m(ids, mask)[:, -1]
            correct += int((enc.norm[logits.argmax(-1)] == enc.gold_norm[a:a + 8]).sum())
            loss = torch.nn.functional.cross_entropy(logits, enc.target[a:a + 8])
            opt.zero_grad()
            loss.backward()
            opt.step()
        acc.append(correct / N)
    return np.array(acc)


def test_official_bookkeeping_fixed_order_and_online_accuracy():
    enc = cf.encode(RECS, TOK)
    cfg = GPT2Config(vocab_size=len(TOK), n_positions=16, n_embd=16, n_layer=1, n_head=2)
    tc = cf.TrainConfig(epochs=3, lr=3e-3, seeds=1, batch_size=8, watch=4)
    official = cf.train(cfg, enc, dataclasses.replace(tc, shuffle=False, accuracy="online"))
    # the official loop, by hand: same online accuracy, epoch by epoch
    assert np.allclose(official["exact_online"][1:, 0], _official_reference(cfg, enc, 3, 3e-3))
    assert np.allclose(official["exact"][1:], official["exact_online"][1:])  # "online" selects them
    assert np.array_equal(official["exact"][0], official["exact_eval"][0])  # epoch 0: before training
    assert (official["type_online"][1:] >= official["exact_online"][1:]).all()
    default = cf.train(cfg, enc, tc)
    assert np.array_equal(default["exact"], default["exact_eval"])
    assert np.isnan(default["exact_online"][0]).all()
    assert np.isfinite(default["exact_online"][1:]).all()
    # reshuffled batches are other batches: the official per-epoch loss log differs from epoch 1 on
    assert not np.allclose(default["loss_official"][1:], official["loss_official"][1:])
    with pytest.raises(ConfigError, match="accuracy must be one of"):
        cf.TrainConfig(accuracy="train")


# ---- rank reduction -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def deep():
    cfg = GPT2Config(vocab_size=len(TOK), n_positions=16, n_embd=16, n_layer=7, n_head=2)
    base, params = cf.init_stacked(cfg, 2, torch.Generator().manual_seed(3))
    return base, {k: v.detach() for k, v in params.items()}


def test_rank_reduction_keep_largest_r0_is_identity_and_ranks_are_k(deep):
    _, params = deep
    same = rr.reduce(params, 0, "largest")
    assert all(torch.allclose(same[k], params[k], rtol=1e-5, atol=1e-6) for k in params)
    for r in (1, 4, 9):
        for keep in rr.KEEPS:
            red = rr.reduce(params, r, keep)
            for name in rr.target_names(params):
                W = params[name]
                k = rr.rank_k(W.shape[-2], W.shape[-1], r)
                assert (torch.linalg.matrix_rank(red[name].double(), rtol=1e-5) == k).all()
            assert rr.truncation_report(params, red, r, keep)["ok"]
            assert torch.equal(red["h.0.attn.c_attn.weight"], params["h.0.attn.c_attn.weight"])  # block 0
    a, b = rr.reduce(params, 5, "largest"), rr.reduce(params, 5, "smallest")
    assert not torch.allclose(a["h.3.attn.c_attn.weight"], b["h.3.attn.c_attn.weight"], atol=1e-3)


def test_sabotaged_truncation_is_detected(deep):
    _, params = deep
    r = 4
    wrong_k = dict(params)
    for name in rr.target_names(params):
        W = params[name]
        wrong_k[name] = rr.truncate(W, rr.rank_k(W.shape[-2], W.shape[-1], r) + 1)  # one value too many
    rep = rr.truncation_report(params, wrong_k, r, "largest")
    assert not rep["ok"] and rep["wrong_rank"]
    swapped = rr.reduce(params, r, "smallest")  # right rank, wrong singular values
    rep = rr.truncation_report(params, swapped, r, "largest")
    assert not rep["ok"] and not rep["wrong_rank"] and rep["max_rel_sv_error"] > rep["tol"]
    block0 = rr.reduce(params, r, "largest")
    block0["h.0.attn.c_proj.weight"] = rr.truncate(params["h.0.attn.c_proj.weight"], 2)  # a block 0 edit
    assert not rr.truncation_report(params, block0, r, "largest")["ok"]


def test_rank_curve_length_and_layer_validation(deep):
    base, params = deep
    enc = cf.encode(RECS, TOK)
    c = rr.curve(base, params, enc, "largest")
    assert c["exact"].shape == (10, 2)
    assert c["x"].tolist() == [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    assert all(rep["ok"] for rep in c["reports"])
    full = cf.evaluate(base, params, enc)
    assert np.allclose(c["exact"][0], full["exact"].numpy())  # x = 1: the untruncated model
    shallow = {k: v for k, v in params.items() if not k.startswith(("h.5.", "h.6."))}
    with pytest.raises(ConfigError, match="need >= 7"):
        rr.reduce(shallow, 3)


# ---- experiments end to end (tiny sizes) ----------------------------------------------------------

TINY = (fs.FactSetConfig(3, 4, 12), {"counterfact": (2, 16, 2), "rank-reduction": (7, 16, 2)},
        cf.TrainConfig(epochs=4, lr=3e-3, seeds=2))


def test_counterfact_experiment_writes_run(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setitem(gr.SIZES, "ci", TINY)
    for v in (gr.ENV_JSON, gr.ENV_GPT2, gr.ENV_EPOCHS, gr.ENV_CKPTS, gr.ENV_OFFICIAL):
        monkeypatch.delenv(v, raising=False)
    summary = gr.counterfact(profile=get_profile("ci"), device=torch.device("cpu"), seed=0,
                             out=tmp_path / "counterfact")
    (d,) = (tmp_path / "counterfact").iterdir()
    assert {"config.json", "metadata.json", "trajectory.parquet", "loss.png", "accuracy.png",
            "stages.json"} <= {p.name for p in d.iterdir()}
    t = pq.read_table(d / "trajectory.parquet").to_pandas()
    assert len(t) == 5 * 2 and np.isfinite(t[["loss", "exact", "type"]].to_numpy()).all()
    assert np.array_equal(t["exact"], t["exact_eval"]) and t["exact_online"].isna().sum() == 2  # epoch 0
    st = json.loads((d / "stages.json").read_text())
    assert len(st["T_type"]) == 2 and len(st["predictions_seed0"][0]["top1_by_epoch"]) == 5
    assert st["accuracy"] == "eval" and st["gap"]["claim"] == "gong-2025/realdata/type-exact-gap"
    assert len(st["gap"]["seeds_with_gap"]) == 2 and "an epoch with type >= 0.9 and exact <= 0.5" in summary
    # the official bookkeeping, from the environment (a different configuration, so a different run)
    monkeypatch.setenv(gr.ENV_OFFICIAL, "1")
    run, *_ = gr.setup("counterfact", "ci", 0)
    assert run.train.shuffle is False and run.train.accuracy == "online"
    summary = gr.counterfact(profile=get_profile("ci"), device=torch.device("cpu"), seed=0,
                             out=tmp_path / "counterfact")
    assert summary.count("online accuracy") == 1 and len(list((tmp_path / "counterfact").iterdir())) == 2
    monkeypatch.setenv(gr.ENV_OFFICIAL, "yes")
    with pytest.raises(ConfigError, match=f"{gr.ENV_OFFICIAL} must be 0 or 1"):
        gr.setup("counterfact", "ci", 0)
    monkeypatch.delenv(gr.ENV_OFFICIAL)
    assert (d / "accuracy.png").read_bytes()[:4] == b"\x89PNG" and "T_type" in summary
    # a real CounterFact-format JSON from the environment replaces the generated set (and changes the hash)
    path = tmp_path / "cf.json"
    path.write_text(json.dumps(fs.generate(fs.FactSetConfig(2, 3), seed=5)))
    monkeypatch.setenv(gr.ENV_JSON, str(path))
    monkeypatch.setenv(gr.ENV_EPOCHS, "2")
    run, records, enc, state = gr.setup("counterfact", "ci", 0)
    assert run.data == str(path) and run.facts is None and len(records) == 6 and run.train.epochs == 2
    monkeypatch.setenv(gr.ENV_JSON, str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="no such file"):
        gr.setup("counterfact", "ci", 0)


def test_rank_reduction_experiment_writes_curves(tmp_path, monkeypatch):
    monkeypatch.setitem(gr.SIZES, "ci", TINY)
    for v in (gr.ENV_JSON, gr.ENV_GPT2, gr.ENV_EPOCHS, gr.ENV_CKPTS, gr.ENV_OFFICIAL):
        monkeypatch.delenv(v, raising=False)
    summary = gr.rank_reduction(profile=get_profile("ci"), device=torch.device("cpu"), seed=0,
                                out=tmp_path / "rank-reduction")
    (d,) = (tmp_path / "rank-reduction").iterdir()
    curves = json.loads((d / "curves.json").read_text())
    assert {"T_type/largest", "T_type/smallest", "final/largest", "final/smallest"} <= set(curves)
    assert all(len(curves[k]["exact"]) == 10 for k in curves if "/" in k)
    assert "every truncation has rank k and the selected singular values: True" in summary
    monkeypatch.setenv(gr.ENV_CKPTS, "a.pt")
    with pytest.raises(ConfigError, match=gr.ENV_GPT2):
        gr.setup("rank-reduction", "ci", 0)


# ---- the claim (judged on the trajectories; mutations hand the judge sabotaged data or an edited formula) --

CASE = gcr.Case(relations=3, subjects=6)
GAP = load_all().get("gong-2025/realdata/type-exact-gap")
A_type, A_exact, p_gap = (sp.Symbol(n, nonnegative=True) for n in ("A_type", "A_exact", "p_gap"))


@pytest.fixture(scope="module")
def claim_run():
    return gcr.trajectories(CASE, Context(get_profile("ci")))


def judge(tr, claim=GAP):
    return gcr.type_exact_gap(claim, CASE, tr)


def gap_formula(theta_type, theta_exact, p):
    return sp.And(A_type >= theta_type, A_exact <= theta_exact, p_gap >= p)


def test_old_claim_is_gone_and_the_gap_reads_its_constants_from_the_formula():
    with pytest.raises(UnknownClaimError):
        load_all().get("gong-2025/realdata/syntax-before-semantics")
    assert gap_constants(GAP.formula) == (0.9, 0.5, 0.5)
    check = load_checkers()["gong-2025/realdata/type-exact-gap"]
    assert check.pool is gcr.pooled and check.judge is gcr.type_exact_gap


def test_the_gap_is_seen_on_a_run(claim_run):
    m = judge(claim_run)
    gap = ((claim_run["type"] >= 0.9) & (claim_run["exact"] <= 0.5)).any(0)
    assert m.worst["gap_seeds"] == gap.tolist() and m.worst["n"] == CASE.seeds
    assert m.worst["successes"] >= CASE.seeds - 1  # the type stage shows up in (almost) every seed
    assert all(t is not None for t in m.worst["T_exact"])  # and the facts are learned after it
    assert m.status is Status.UNDECIDED  # one case of 6 seeds cannot decide p >= 1/2; the pool does


def test_gap_mutations_are_violated(claim_run):
    """Two cases' worth of trials (12), pooled as the check pools its drawn cases."""
    def pool(m):
        return gcr.pooled([(m, CASE), (m, CASE)])

    together = dict(claim_run, type=claim_run["exact"])  # type and exact accuracy rise together
    assert judge(together).worst["successes"] == 0 and pool(judge(together)).status is Status.VIOLATED
    # an edited formula: "exact accuracy at most 5 % while the type is right" -- the facts start early
    strict = dataclasses.replace(GAP, formula=gap_formula(sp.Rational(9, 10), sp.Rational(1, 20), sp.S.Half))
    assert pool(judge(claim_run, strict)).status is Status.VIOLATED
    real = judge(claim_run)
    mixed = gcr.pooled([(real, CASE), (judge(together), CASE)])
    assert (mixed.worst["successes"], mixed.worst["n"]) == (real.worst["successes"], 2 * CASE.seeds)
    assert mixed.worst["worst_case_result"]["successes"] == 0


def test_a_case_costs_three_draws():
    check = load_checkers()["gong-2025/realdata/type-exact-gap"]
    assert check.profile(Context(get_profile("ci"))).examples == 2  # ci: 6 // 3
    assert check.profile(Context(get_profile("quick"))).examples == 6


def _byte_symbols():
    """GPT-2's byte -> printable-character map of byte-level BPE."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def test_pretrained_bpe_fine_tuning_path_when_installed(tmp_path, monkeypatch):
    """TWOSTAGE_GPT2_DIR + TWOSTAGE_COUNTERFACT_JSON: a (tiny) GPT-2 checkpoint folder with a byte-level BPE
    tokenizer in which only the languages are single tokens: the other pairs are dropped, as in the paper."""
    transformers = pytest.importorskip("transformers")
    records = fs.generate(fs.FactSetConfig(2, 4), seed=2)
    sym = _byte_symbols()
    vocab = {c: i for i, c in enumerate(sym.values())}
    merges: list[tuple[str, str]] = []
    for word in fs.RELATIONS[0][2]:
        cur, *rest = [sym[b] for b in (" " + word).encode()]
        for c in rest:
            if (cur, c) not in merges:
                merges.append((cur, c))
            cur += c
            vocab.setdefault(cur, len(vocab))
    vocab["<|endoftext|>"] = len(vocab)
    tok = transformers.GPT2Tokenizer(vocab=vocab, merges=merges)
    tok.save_pretrained(tmp_path / "gpt2")
    torch.manual_seed(0)
    hc = transformers.GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=16, n_layer=7, n_head=2,
                                 bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    transformers.GPT2LMHeadModel(hc).save_pretrained(tmp_path / "gpt2")
    (tmp_path / "cf.json").write_text(json.dumps(records))
    monkeypatch.setenv(gr.ENV_JSON, str(tmp_path / "cf.json"))
    monkeypatch.setenv(gr.ENV_GPT2, str(tmp_path / "gpt2"))
    monkeypatch.setenv(gr.ENV_EPOCHS, "1")
    monkeypatch.delenv(gr.ENV_CKPTS, raising=False)
    run, _, enc, state = gr.setup("counterfact", "ci", 0)
    assert run.tokenizer == "gpt2-bpe" and run.train.lr == gr.PAPER_LR and state is not None
    assert enc.dropped == 12 and enc.ids.shape[0] == 12  # the 4 capital-city records have multi-token answers
    cpu = torch.device("cpu")
    gr.counterfact(profile=get_profile("ci"), device=cpu, seed=0, out=tmp_path / "counterfact")
    (d,) = (tmp_path / "counterfact").iterdir()
    assert json.loads((d / "stages.json").read_text())["dropped_pairs"] == 12
    # rank reduction of fine-tuned state dicts (the official checkpoints are GPT2LMHeadModel state dicts)
    sd = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "gpt2").state_dict()
    torch.save(sd, tmp_path / "epoch_5.pt")
    monkeypatch.setenv(gr.ENV_CKPTS, str(tmp_path / "epoch_5.pt"))
    summary = gr.rank_reduction(profile=get_profile("ci"), device=torch.device("cpu"), seed=0,
                                out=tmp_path / "rank-reduction")
    assert "epoch_5 keep largest" in summary and "selected singular values: True" in summary
