# The dashboard as a container: one Streamlit server reading the store on the /data volume.
#   docker build -t qsd .
#   docker run -p 8501:8501 -v qsd-store:/data qsd    # builds the demo store on first start
# compose.yaml runs several replicas behind a proxy with sticky sessions, and the loader as a job.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    QSD_DB=/data/qsd.duckdb

WORKDIR /app
# The app's pinned packages, their dependencies held to the versions CI tests (the lock).
COPY requirements.txt requirements.lock ./
RUN pip install -r requirements.txt -c requirements.lock

COPY dashboard.py pyproject.toml ./
COPY .streamlit .streamlit
COPY ingest ingest
COPY queries queries
COPY ui ui
COPY pages pages

RUN useradd --create-home --uid 10001 qsd && mkdir -p /data /app/data && chown qsd /data /app/data
USER qsd
VOLUME ["/data"]
EXPOSE 8501

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]

CMD ["streamlit", "run", "dashboard.py", "--server.address=0.0.0.0", "--server.port=8501", \
     "--server.headless=true", "--browser.gatherUsageStats=false"]
