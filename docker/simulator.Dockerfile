# The meter simulator on its own: no Odoo, no database.
FROM python:3.11-slim
WORKDIR /opt/prepaid_energy
COPY pyproject.toml README.md ./
COPY prepaid_energy_core ./prepaid_energy_core
COPY data ./data
RUN pip install --no-cache-dir .
ENV PREPAID_ENERGY_REGISTER_MAPS=/opt/prepaid_energy/data/register_maps
EXPOSE 7000-7031
