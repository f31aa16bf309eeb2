# Absen: docker build -t absen . && docker run -p 5000:5000 -v absen-data:/data absen
#   --build-arg BAKE_FACENET_WEIGHTS=vggface2  bake FaceNet's published weights (the default;
#                                              casia-webface also works; empty skips). When the
#                                              build has no internet the image still builds and
#                                              FACE_MODEL=auto serves with dlib's model.
#   --build-arg TORCH_INDEX_URL=<index>        install torch from another index (a CPU-only one
#                                              makes the image several GB smaller).
FROM python:3.11-slim

ARG BAKE_FACENET_WEIGHTS=vggface2
ARG TORCH_INDEX_URL=

RUN apt-get update \
 && apt-get install -y --no-install-recommends libmagic1 \
 && rm -rf /var/lib/apt/lists/*

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TORCH_HOME=/opt/torch \
    ABSEN_INSTANCE_DIR=/data \
    ABSEN_BIND=0.0.0.0:5000 \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /srv/absen
COPY requirements.txt requirements-nodeps.txt ./
RUN if [ -n "$TORCH_INDEX_URL" ]; then \
      pip install --index-url "$TORCH_INDEX_URL" torch==2.14.1 torchvision==0.29.1; \
    fi \
 && pip install -r requirements.txt \
 && pip install --no-deps -r requirements-nodeps.txt

# facenet-pytorch's own download, into $TORCH_HOME/checkpoints where the service looks.
RUN mkdir -p "$TORCH_HOME" \
 && if [ -n "$BAKE_FACENET_WEIGHTS" ]; then \
      python -c "from facenet_pytorch import InceptionResnetV1; InceptionResnetV1(pretrained='$BAKE_FACENET_WEIGHTS')" \
      || echo "WARNING: FaceNet weights could not be downloaded; FACE_MODEL=auto will use dlib."; \
    fi

RUN useradd --system --uid 10001 --home-dir /srv/absen absen \
 && mkdir -p /data && chown absen /data
COPY config.py run.py gunicorn.conf.py ./
COPY app ./app
COPY models ./models
COPY embeddings ./embeddings

USER absen
VOLUME /data
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=4)"
CMD ["gunicorn", "-c", "gunicorn.conf.py", "run:app"]
