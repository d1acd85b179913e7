"""A pool of corpora for cross-corpus experiments (espnet_ser.corpora.pool, bin/prepare_pool)."""

import pytest

from espnet_ser.bin.prepare_pool import main
from espnet_ser.corpora.pool import SEGMENT_SECONDS, PoolError, check_pool, prepare_pool
from espnet_ser.corpora.synth import generate_corpus
from espnet_ser.utils.data_dir import read_table, validate_data_dir


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    root = tmp_path_factory.mktemp("pool")
    return {
        "emodb": generate_corpus("emodb", root / "emodb", n_speakers=4, utts_per_speaker=7, duration=(0.3, 0.6),
                                 sample_rate=16000),
        "tess": generate_corpus("tess", root / "tess", utts_per_speaker=7, duration=0.5, sample_rate=16000,
                                quirks=False),
    }


def test_segment_is_gao_et_al_265_ms():
    assert abs(SEGMENT_SECONDS - 0.264) < 1e-9


@pytest.mark.parametrize("sources, targets, match", [
    ([], ["tess"], "--sources is empty"),
    (["emodb"], ["nosuch"], "unknown corpus 'nosuch'"),
    (["emodb", "tess"], ["tess"], "tess is both a source and a target"),
    (["emodb", "EmoDB"], [], "emodb is named twice"),
])
def test_bad_pools_are_one_line_errors(sources, targets, match):
    with pytest.raises(PoolError, match=match):
        check_pool(sources, targets)


def test_arousal_pool_maps_every_label_and_counts_short_utterances(trees, tmp_path, caplog):
    # The generator writes >= 0.3 s, so a longer "segment" makes some utterances short.
    s = prepare_pool(trees, sources=["emodb"], targets=["tess"], task="arousal", out_dir=tmp_path,
                     min_duration=0.45)
    d = tmp_path / "all"
    validate_data_dir(d)
    emo, aro = read_table(d / "utt2emo"), read_table(d / "utt2arousal")
    assert set(aro) == set(emo) == set(read_table(d / "utt2spk"))
    high = {"ang", "fea", "hap", "sur"}  # Gao et al. Table 1 (Emo-DB), and TESS by analogy
    assert all((aro[u] == "high") == (emo[u] in high) for u in emo)
    assert set(read_table(d / "utt2corpus").values()) == {"emodb", "tess"}
    assert set(read_table(d / "utt2lang").values()) == {"de", "en"}
    assert not (d / "utt2valence").exists()
    assert s["corpora"]["emodb"]["role"] == "source" and s["corpora"]["tess"]["role"] == "target"
    dur = read_table(d / "utt2dur")
    n_short = sum(float(v) < 0.45 for u, v in dur.items() if u.startswith("emodb"))
    assert s["corpora"]["emodb"]["short"] == n_short > 0  # kept (padded by the adapter), counted, logged
    assert "shorter than one segment" in caplog.text


def test_emotion_pool_keeps_the_shared_classes_and_lists_the_rest(trees, tmp_path):
    prepare_pool(trees, sources=["tess"], targets=["emodb"], task="emotion", out_dir=tmp_path)
    emo = read_table(tmp_path / "all" / "utt2emo")
    assert set(emo.values()) <= {"ang", "hap", "neu", "sad"}
    skipped = read_table(tmp_path / "all" / "skipped")
    assert any("not one of the task's classes" in r for r in skipped.values())
    assert not set(skipped) & set(emo)


def test_a_map_without_the_task_is_a_one_line_error(trees, tmp_path, capsys):
    bad = tmp_path / "tess_map.yaml"
    bad.write_text("emotion: {angry: ang, disgust: dis, fear: fea, happy: hap, neutral: neu, ps: sur, sad: sad}\n"
                   "valence: {ang: negative, dis: negative, fea: negative, hap: positive, neu: positive, "
                   "sur: positive, sad: negative}\n")
    argv = ["--sources", "emodb", "--targets", "tess", "--task", "arousal", "--out-dir", str(tmp_path / "d"),
            "--corpus", f"emodb={trees['emodb']}", "--corpus", f"tess={trees['tess']}"]
    assert main(argv + ["--label-map", f"tess={bad}"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "tess" in err and "has no 'arousal' section" in err
    bad.write_text(bad.read_text().replace("arousal", "x") + "arousal: {ang: high}\n")
    assert main(argv + ["--label-map", f"tess={bad}"]) == 1
    assert "'arousal' has no value for emotion label(s)" in capsys.readouterr().err
    assert main(argv[:6] + ["--out-dir", str(tmp_path / "e"), "--corpus", f"emodb={trees['emodb']}"]) == 1
    assert "no corpus folder for tess" in capsys.readouterr().err
    assert main(argv) == 0
