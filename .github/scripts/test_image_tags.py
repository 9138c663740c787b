"""The image tag policy: main, bare semver releases, short SHA; `v1.2.3` rejected."""

from __future__ import annotations

import pytest
from image_tags import TagPolicyError, image_tags, main

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_main_branch_gets_main_and_short_sha() -> None:
    assert image_tags("refs/heads/main", SHA) == ["main", "0123456"]


@pytest.mark.parametrize("tag", ["1.2.3", "0.1.0", "10.20.30", "1.2.3-rc.1"])
def test_semver_tag_gets_itself_and_short_sha(tag: str) -> None:
    assert image_tags(f"refs/tags/{tag}", SHA, version=tag) == [tag, "0123456"]


def test_v_prefixed_tag_is_rejected_with_the_fix() -> None:
    with pytest.raises(TagPolicyError, match=r"tag '1\.2\.3' instead"):
        image_tags("refs/tags/v1.2.3", SHA)


@pytest.mark.parametrize("tag", ["1.2", "01.2.3", "1.2.3+build.5", "latest", "release-1"])
def test_non_semver_tags_are_rejected(tag: str) -> None:
    with pytest.raises(TagPolicyError, match="not semver"):
        image_tags(f"refs/tags/{tag}", SHA)


def test_release_tag_must_match_the_source_version() -> None:
    with pytest.raises(TagPolicyError, match="differs from the source version"):
        image_tags("refs/tags/1.2.4", SHA, version="1.2.3")


def test_other_branches_and_pull_requests_publish_nothing() -> None:
    assert image_tags("refs/heads/feature", SHA) == []
    assert image_tags("refs/pull/7/merge", SHA) == []


def test_short_or_odd_sha_is_rejected() -> None:
    with pytest.raises(TagPolicyError, match="full commit SHA"):
        image_tags("refs/heads/main", "0123456")


def test_command_line_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ref", "refs/tags/v1.0.0", "--sha", SHA]) == 2
    assert "without 'v'" in capsys.readouterr().err
    assert main(["--ref", "refs/tags/1.0.0", "--sha", SHA]) == 0
    assert capsys.readouterr().out.split() == ["1.0.0", "0123456"]
