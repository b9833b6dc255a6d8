# The official Odoo 18 image (Ubuntu, Odoo from its .deb, wkhtmltopdf 0.12.6.1
# with patched Qt already installed, postgresql-client) plus this project:
# prepaid_energy_core with its dependencies (pyproject.toml) and the addons.
FROM odoo:18
USER root
COPY pyproject.toml README.md /opt/prepaid_energy/
COPY prepaid_energy_core /opt/prepaid_energy/prepaid_energy_core
COPY data/register_maps /opt/prepaid_energy/data/register_maps
ENV PREPAID_ENERGY_REGISTER_MAPS=/opt/prepaid_energy/data/register_maps
# The image's Python is the system's (PEP 668): pip needs --break-system-packages.
RUN pip3 install --no-cache-dir --break-system-packages /opt/prepaid_energy \
    && python3 -c "import prepaid_energy_core.fieldbus, pymodbus, serial, Crypto, xlsxwriter"
# One COPY per addon: COPY of a glob would copy the folders' contents, not the folders.
COPY prepaid_energy /mnt/extra-addons/prepaid_energy
COPY prepaid_energy_hw /mnt/extra-addons/prepaid_energy_hw
COPY prepaid_energy_portal /mnt/extra-addons/prepaid_energy_portal
COPY prepaid_energy_portal_hw /mnt/extra-addons/prepaid_energy_portal_hw
COPY prepaid_energy_demo /mnt/extra-addons/prepaid_energy_demo
COPY docker/odoo-start.sh /usr/local/bin/prepaid-demo-start
RUN chmod 755 /usr/local/bin/prepaid-demo-start
USER odoo
# The image's /entrypoint.sh runs this (it is not `odoo`): the demo database on
# the first start, then Odoo serving it.
CMD ["prepaid-demo-start"]
