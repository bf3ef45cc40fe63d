"""The labs' tests run notebooks in a Jupyter kernel; without nbclient they cannot run at all."""

import pytest

pytest.importorskip("nbclient", reason="the test extra installs nbclient: pip install '.[test]'")
