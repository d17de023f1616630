"""The HTML report: one self-contained page (inline CSS, PNGs as data URIs, no scripts, nothing fetched)
per export, parity or device bench folder, or several on one page. ``collect`` reads result files,
``figures`` draws, ``page`` writes the HTML, ``publish`` is the one call a finished run makes."""
