"""The job pages served by the app: plain HTML, a stylesheet and a script, nothing fetched."""
