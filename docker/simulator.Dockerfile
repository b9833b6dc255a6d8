# The meter simulator on its own: no Odoo. At each start it reads the demo
# meters' last readings from the database (scripts/demo_state.py, hence
# psycopg2) and serves those meters on 0.0.0.0:7000.. (docker/simulator-start.sh).
FROM python:3.11-slim
WORKDIR /opt/prepaid_energy
COPY pyproject.toml README.md ./
COPY prepaid_energy_core ./prepaid_energy_core
COPY data ./data
RUN pip install --no-cache-dir . "psycopg2-binary>=2.9,<3"
ENV PREPAID_ENERGY_REGISTER_MAPS=/opt/prepaid_energy/data/register_maps \
    PYTHONUNBUFFERED=1
COPY scripts/demo_state.py ./scripts/demo_state.py
COPY docker/simulator-start.sh /usr/local/bin/simulator-start
RUN chmod 755 /usr/local/bin/simulator-start
USER nobody
EXPOSE 7000-7031
CMD ["simulator-start"]
