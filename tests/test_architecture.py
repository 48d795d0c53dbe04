"""The libraries never know about the UI."""

import subprocess
import sys


def test_libraries_do_not_import_streamlit() -> None:
    code = (
        "import sys, segmentation, segmentation.cli, segmentation.pipeline, segmentation.features, recommenders;"
        "import segmentation.synthetic; print('streamlit' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
