# The official Odoo 18 image with this project's addons and core package.
FROM odoo:18
USER root
COPY pyproject.toml README.md /opt/prepaid_energy/
COPY prepaid_energy_core /opt/prepaid_energy/prepaid_energy_core
COPY data/register_maps /opt/prepaid_energy/data/register_maps
ENV PREPAID_ENERGY_REGISTER_MAPS=/opt/prepaid_energy/data/register_maps
RUN pip3 install --no-cache-dir --break-system-packages /opt/prepaid_energy
COPY prepaid_energy /mnt/extra-addons/prepaid_energy
USER odoo
