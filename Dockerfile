# cnnviz for school IT: one Streamlit replica per container (deploy/compose.yaml runs N of them
# behind HAProxy; the same image runs the balancer, so haproxy is installed here too).
#   docker build -t cnnviz .
#   docker run --rm -p 8501:8501 cnnviz                 # one replica, like `streamlit run app.py`
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends haproxy \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin cnnviz
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

# Only what the app serves (tests and benchmarks stay out: .dockerignore)
COPY app.py ./
COPY .streamlit ./.streamlit
COPY assets ./assets
COPY cnnviz ./cnnviz
COPY ui ./ui
COPY pages ./pages
COPY deploy ./deploy

USER cnnviz
EXPOSE 8501

# The endpoint HAProxy checks too; "ok" when the server answers.
HEALTHCHECK --interval=15s --timeout=3s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2).read().strip() != b'ok')"]

CMD ["python", "-m", "streamlit", "run", "app.py", "--server.address=0.0.0.0", \
     "--server.port=8501", "--server.headless=true", "--server.fileWatcherType=none"]
