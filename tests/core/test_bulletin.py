"""A plugin's bulletin choice must be something the bulletin can say: it is refused when made."""

import pytest

from lms.bulletin import BulletinChoice


@pytest.mark.parametrize("fields", [
    {"key": "", "group": "Tin tức", "title": "Họp thôn", "text": "Tối nay họp thôn."},
    {"key": "tin:1", "group": "Tin tức", "title": "", "text": "Tối nay họp thôn."},
    {"key": "tin:1", "group": "Tin tức", "title": "Họp thôn"},  # neither words nor audio
])
def test_a_choice_without_key_title_or_anything_to_play_is_refused(fields):
    with pytest.raises(ValueError, match="bulletin choice"):
        BulletinChoice(**fields)


def test_a_choice_with_audio_needs_no_words():
    choice = BulletinChoice("tin:2", "Tin tức", "Lịch tiêm chủng", media_key="a" * 64)
    assert choice.text == "" and choice.media_key == "a" * 64
