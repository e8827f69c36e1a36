# The image is built from the package: a wheel carrying every package the `cims` entry point
# imports (domain, ledger, projections, api, replay, cli, demo) and the web front end's files,
# installed with its dependencies into a clean Python. No source tree is copied into the image
# that runs, so what runs is exactly what `pip install` of the release gives
# (tests/deploy/test_packaging.py installs the same wheel and runs it).

FROM python:3.11-slim AS wheel
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --create-home --home-dir /srv/cims cims
# Not root; an embedded SQLite store (development only) and the development secret land here.
USER cims
WORKDIR /srv/cims
EXPOSE 8000
CMD ["cims", "serve", "--host", "0.0.0.0", "--port", "8000"]
