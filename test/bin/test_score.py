"""Tests of bin/score.py (stage 6) and bin/speaker_probe.py on small generated decode dirs."""
import json

import numpy as np
import pytest

from espnet_ser.bin import score, speaker_probe
from espnet_ser.eval.metrics import RESULTS_KEYS, check_results


def make_set(root, *, n_per=(4, 2, 2), unlabelled=1, missing=0, seed=0):
    """A data dir + decode dir: 2 speakers, labels ang/hap/neu; returns (data, decode)."""
    rng = np.random.default_rng(seed)
    labels = ["ang", "hap", "neu"]
    data, dec = root / "data", root / "decode_test"
    data.mkdir(parents=True)
    dec.mkdir(parents=True)
    (dec / "labels.txt").write_text("".join(f"{lab}\n" for lab in labels))
    utt2emo, utt2spk, post = {}, {}, {}
    i = 0
    for c, n in enumerate(n_per):
        for _ in range(n):
            spk = f"spk{i % 2}"
            utt = f"{spk}-u{i:03d}"
            utt2emo[utt], utt2spk[utt] = labels[c], spk
            p = rng.dirichlet(np.ones(3))
            post[utt] = p
            i += 1
    for k in range(unlabelled):
        utt = f"spk0-x{k:03d}"
        utt2spk[utt] = "spk0"
        post[utt] = np.array([1.0, 0.0, 0.0])
    for utt in sorted(utt2emo)[:missing]:
        del post[utt]
    (data / "utt2emo").write_text("".join(f"{u} {e}\n" for u, e in sorted(utt2emo.items())))
    (data / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s in sorted(utt2spk.items())))
    (dec / "posteriors").write_text("".join(f"{u} " + " ".join(f"{v:.6f}" for v in p) + "\n"
                                            for u, p in sorted(post.items())))
    return data, dec, utt2emo, post


def _args(data, dec):
    return ["--posteriors", str(dec / "posteriors"), "--labels", str(dec / "labels.txt"),
            "--data-dir", str(data), "--out-dir", str(dec), "--tag", "t"]


def test_score_writes_results_confusion_and_per_utt(tmp_path):
    data, dec, utt2emo, post = make_set(tmp_path)
    assert score.main(_args(data, dec)) == 0
    res = json.loads((dec / "results.json").read_text())
    assert list(res) == list(RESULTS_KEYS)
    check_results(res)
    labels = ["ang", "hap", "neu"]
    hyp = {u: labels[int(np.argmax(post[u]))] for u in utt2emo}
    assert res["wa"] == pytest.approx(np.mean([hyp[u] == utt2emo[u] for u in utt2emo]))
    assert res["n"] == len(utt2emo)  # the unlabelled posterior is not scored
    assert set(res["per_speaker"]) == {"spk0", "spk1"}
    assert (dec / "confusion.txt").read_text().split()[0] == "ref\\hyp"
    assert (dec / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    rows = [line.split() for line in (dec / "per_utt").read_text().splitlines()]
    assert len(rows) == len(utt2emo) and all(r[3] == hyp[r[0]] for r in rows)


def test_score_missing_posterior_fails_with_one_line(tmp_path, capsys):
    data, dec, *_ = make_set(tmp_path, missing=2)
    assert score.main(_args(data, dec)) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "2 of 8 labelled utterances" in err and "no posterior" in err
    assert not (dec / "results.json").exists()


def test_score_unknown_label_fails(tmp_path, capsys):
    data, dec, *_ = make_set(tmp_path)
    (dec / "labels.txt").write_text("ang\nhap\nsad\n")
    assert score.main(_args(data, dec)) == 1
    assert "['neu'] not in the label inventory" in capsys.readouterr().err


def test_speaker_probe_cli(tmp_path):
    from espnet_ser.features.ark_io import ArkWriter

    rng = np.random.default_rng(0)
    data = tmp_path / "data"
    data.mkdir()
    utts = [f"spk{s}-u{i:02d}" for s in range(3) for i in range(12)]
    (data / "utt2spk").write_text("".join(f"{u} {u.split('-')[0]}\n" for u in utts) + "spk0-zz spk0\n")
    with ArkWriter(tmp_path / "emb.ark", tmp_path / "emb.scp") as w:
        for u in utts:
            w[u] = (rng.normal(size=(1, 8)) + 4 * int(u[3])).astype(np.float32)
    with ArkWriter(tmp_path / "feats.ark", tmp_path / "feats.scp") as w:
        for u in utts:
            w[u] = rng.normal(size=(int(rng.integers(1, 20)), 4)).astype(np.float32)
    out = tmp_path / "probe.json"
    assert speaker_probe.main(["--embeddings", str(tmp_path / "emb.scp"), "--data-dir", str(data),
                               "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["logreg_bacc"] > 0.9 and res["chance"] == pytest.approx(1 / 3)
    assert res["n_missing"] == 1 and ["spk0-zz", "no vector in the scp"] in res["skipped"]
    assert speaker_probe.main(["--feats", str(tmp_path / "feats.scp"), "--data-dir", str(data),
                               "--out", str(out)]) == 0
    assert json.loads(out.read_text())["dim"] == 8
    # (T, D) matrices given as embeddings are rejected
    assert speaker_probe.main(["--embeddings", str(tmp_path / "feats.scp"), "--data-dir", str(data),
                               "--out", str(out)]) == 1


def test_mixed_corpus_test_set_is_scored_per_corpus(tmp_path):
    """multi_corpus: utt2corpus with 2 corpora -> per_corpus entries, each the metrics of its subset;
    one corpus (a cross-corpus target) -> no per_corpus key."""
    from espnet_ser.eval.metrics import compute_metrics

    data, dec, utt2emo, post = make_set(tmp_path, n_per=(4, 4, 4), unlabelled=0)
    utt2corpus = {u: ("emodb" if u.startswith("spk0") else "tess") for u in utt2emo}
    (data / "utt2corpus").write_text("".join(f"{u} {c}\n" for u, c in sorted(utt2corpus.items())))
    assert score.main(_args(data, dec)) == 0
    res = json.loads((dec / "results.json").read_text())
    check_results(res)
    assert sorted(res["per_corpus"]) == ["emodb", "tess"]
    labels = ["ang", "hap", "neu"]
    for c in ("emodb", "tess"):
        utts = [u for u in utt2emo if utt2corpus[u] == c]
        m = compute_metrics([utt2emo[u] for u in utts], [labels[int(np.argmax(post[u]))] for u in utts], labels)
        assert res["per_corpus"][c]["n"] == len(utts) and res["per_corpus"][c]["ua"] == pytest.approx(m["ua"])
    (data / "utt2corpus").write_text("".join(f"{u} tess\n" for u in sorted(utt2emo)))
    assert score.main(_args(data, dec)) == 0
    assert "per_corpus" not in json.loads((dec / "results.json").read_text())
