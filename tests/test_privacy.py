"""Privacy: pseudonymous ids (keyed hash, reversible only with the key), small-group suppression, and the claims of
docs/privacy.md that a test can check (no email in the run store or the logs; exports hold only what they need)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
import yaml

from segmentation.cli import main
from segmentation.errors import ConfigError
from segmentation.privacy import KEY_ENV, KEY_FILE_ENV, Pseudonymizer, suppress_small_groups
from segmentation.store import RunStore

RFC4231_KEY = b"\x0b" * 20
"""RFC 4231 test case 1: HMAC-SHA256(key, "Hi There") = b0344c61d8db3853 5ca8afceaf0bf12b 881dc200c9833da7 ..."""


def test_pseudonym_is_the_keyed_hash() -> None:
    pseudonymizer = Pseudonymizer(RFC4231_KEY)
    assert pseudonymizer.pseudonym("Hi There") == "p_b0344c61d8db38535ca8afceaf0bf12b"
    assert pseudonymizer.pseudonymize(["17850", "17850"]) == [pseudonymizer.pseudonym("17850")] * 2
    assert Pseudonymizer(b"\x0c" * 20).pseudonym("17850") != pseudonymizer.pseudonym("17850")
    assert "0b0b" not in repr(pseudonymizer) and pseudonymizer.key_id in repr(pseudonymizer)


def test_only_the_key_holder_reidentifies() -> None:
    key = Pseudonymizer.new_key()
    ids = [f"C{i:05d}" for i in range(200)]
    pseudonyms = [*Pseudonymizer(key).pseudonymize(ids[:3]), "p_unknown"]
    back = Pseudonymizer(key).reidentify(pseudonyms, ids)
    assert back.iloc[:3].tolist() == ids[:3] and pd.isna(back.iloc[3])
    assert Pseudonymizer(Pseudonymizer.new_key()).reidentify(pseudonyms, ids).isna().all()


def test_key_from_environment_or_file(tmp_path) -> None:
    assert Pseudonymizer.from_env({}) is None
    key = "k" * 32
    assert Pseudonymizer.from_env({KEY_ENV: key}).pseudonym("1") == Pseudonymizer(key).pseudonym("1")
    (tmp_path / "key").write_text(key + "\n")
    assert Pseudonymizer.from_env({KEY_FILE_ENV: str(tmp_path / "key")}).key_id == Pseudonymizer(key).key_id
    with pytest.raises(ConfigError, match="no such file"):
        Pseudonymizer.from_env({KEY_FILE_ENV: str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match="at least 16"):
        Pseudonymizer("short")


def test_a_store_with_a_key_saves_only_pseudonyms(tmp_path) -> None:
    ids = [f"C{i:05d}" for i in range(50)]
    assignments = pd.DataFrame({"segment": np.arange(50) % 2, "segment_name": "s"}, index=pd.Index(ids))
    profiles = pd.DataFrame({"name": ["a", "b"], "customers": [25, 25]}, index=[0, 1])
    pseudonymizer = Pseudonymizer(Pseudonymizer.new_key())
    store = RunStore(tmp_path / "runs.duckdb", pseudonymizer=pseudonymizer)
    store.save("r1", {}, assignments, profiles)
    data = (tmp_path / "runs.duckdb").read_bytes()
    assert not any(c.encode() in data for c in ids)
    saved = store.load("r1")
    assert saved.info["pseudonym_key_id"] == pseudonymizer.key_id
    assert sorted(pseudonymizer.reidentify(saved.assignments.index, ids)) == ids


def test_groups_below_k_are_suppressed() -> None:
    frame = pd.DataFrame(
        {"name": ["big", "tiny", "edge"], "customers": [120, 3, 10], "monetary": [50.0, 9000.0, 20.0], "top": [1, 1, 0]}
    )
    out = suppress_small_groups(frame, "customers", k=10, columns=["customers", "monetary"])
    assert out["suppressed"].tolist() == [False, True, False]
    assert np.isnan(out.loc[1, "customers"]) and np.isnan(out.loc[1, "monetary"]) and out.loc[1, "top"] == 1
    assert out.loc[2, "customers"] == 10 and out.attrs["suppressed"].startswith("1 group(s) of fewer than 10")
    assert suppress_small_groups(frame, "customers", k=3).attrs["suppressed"] == ""
    with pytest.raises(ConfigError, match="no column"):
        suppress_small_groups(frame, "size")


def test_cluster_profiles_file_suppresses_a_tiny_segment(tmp_path) -> None:
    rng = np.random.default_rng(0)
    n = 60
    features = pd.DataFrame(
        {
            "recency_days": np.r_[rng.uniform(1, 30, n), [900.0] * 3],
            "frequency": np.r_[rng.integers(5, 9, n), [1] * 3].astype(float),
            "monetary": np.r_[rng.uniform(100, 200, n), [2.0] * 3],
        },
        index=pd.Index([f"c{i}" for i in range(n + 3)], name="customer_id"),
    )
    features.to_csv(tmp_path / "features.csv")
    argv = ["-q", "cluster", str(tmp_path / "features.csv"), "--k", "2", "--use", "recency_days,frequency,monetary"]
    assert main([*argv, "--out", str(tmp_path / "seg.csv"), "--profiles", str(tmp_path / "profiles.csv")]) == 0
    profiles = pd.read_csv(tmp_path / "profiles.csv", index_col=0)
    assert sorted(profiles["suppressed"]) == [False, True]
    tiny = profiles[profiles["suppressed"]].iloc[0]
    assert np.isnan(tiny["customers"]) and np.isnan(tiny["revenue_share"])
    assert profiles.loc[~profiles["suppressed"], "customers"].iloc[0] == n


@pytest.mark.slow
def test_no_email_in_the_run_store_or_the_logs(tmp_path, sample_path, monkeypatch, caplog, capsys) -> None:
    """docs/privacy.md: emails are read only for an export; the run store and the log never hold one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(KEY_ENV, raising=False)
    emails = pd.read_csv(sample_path, usecols=["email"])["email"].dropna().unique()
    assert len(emails) > 100
    for crm in ("generic", "hubspot"):
        config = {
            "input": str(sample_path),
            "clustering": {"method": "kmeans", "params": {"n_clusters": 4}},
            "export": {"crm": crm, "out_dir": "out"},
            "store": "runs.duckdb",
        }
        (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
        with caplog.at_level(logging.DEBUG):
            assert main(["run", "run.yaml"]) == 0
    logged = caplog.text + "".join(capsys.readouterr())
    store = (tmp_path / "runs.duckdb").read_bytes()
    assert not [e for e in emails if e.encode() in store or e in logged]
    # the export for a CRM that identifies contacts by email carries them; the manifest never does
    hubspot = pd.read_csv(tmp_path / "out" / "hubspot_segments.csv", dtype=str)
    assert hubspot["Email"].isin(emails).all()
    manifest = (tmp_path / "out" / "hubspot_segments.manifest.json").read_text()
    assert not [e for e in emails if e in manifest] and json.loads(manifest)["rows"] == len(hubspot)


def test_an_email_column_left_unmapped_is_not_kept(sample_path) -> None:
    """docs/privacy.md: `mapping: {email: null}` (or `--map email=`) keeps emails out of the clean transactions."""
    from segmentation.config import Config
    from segmentation.pipeline import load_transactions

    mapped = load_transactions(sample_path).transactions
    assert mapped["email"].drop_null().length() > 0
    unmapped = load_transactions(sample_path, Config.from_dict({"mapping": {"email": None}})).transactions
    assert "email" not in unmapped.column_names or unmapped["email"].drop_null().length() == 0
