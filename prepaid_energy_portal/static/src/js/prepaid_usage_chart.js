/** @odoo-module **/

import publicWidget from "@web/legacy/js/public/public_widget";
import { loadBundle } from "@web/core/assets";
import { rpc } from "@web/core/network/rpc";
import { _t } from "@web/core/l10n/translation";

/**
 * The usage charts of the tenant's account page: daily, monthly, by time-of-use band
 * and this year against last. Chart.js is the copy Odoo ships (web.chartjs_lib); the
 * data comes from the account's JSON route, which checks the tenant's access.
 */
publicWidget.registry.PrepaidUsageChart = publicWidget.Widget.extend({
    selector: ".o_prepaid_usage_chart",
    events: {
        "click [data-chart-view]": "_onViewClick",
        "change select[name='prepaid_chart_scope']": "_onScopeChange",
    },

    async start() {
        await this._super(...arguments);
        this.view = "daily";
        this.chart = null;
        await loadBundle("web.chartjs_lib");
        await this._load(this.el.dataset.utility ? { utility: this.el.dataset.utility } : {});
    },

    destroy() {
        this.chart?.destroy();
        this._super(...arguments);
    },

    async _load(scope) {
        const params = { access_token: this.el.dataset.accessToken || null, ...scope };
        this.data = await rpc(this.el.dataset.url, params);
        this._render();
    },

    _config() {
        const data = this.data;
        const unit = data.unit;
        const money = _t("Cost (%s)", data.currency);
        const usage = _t("Usage (%s)", unit);
        const bar = (label, values, color, axis = "y") => ({
            type: "bar",
            label,
            data: values,
            backgroundColor: color,
            yAxisID: axis,
        });
        const line = (label, values, color) => ({
            type: "line",
            label,
            data: values,
            borderColor: color,
            backgroundColor: color,
            yAxisID: "y1",
            tension: 0.3,
            pointRadius: 0,
        });
        const twoAxes = {
            y: { beginAtZero: true, title: { display: true, text: unit } },
            y1: {
                beginAtZero: true,
                position: "right",
                grid: { drawOnChartArea: false },
                title: { display: true, text: data.currency },
            },
        };
        if (this.view === "bands") {
            return {
                type: "doughnut",
                data: {
                    labels: data.bands.labels,
                    datasets: [
                        {
                            data: data.bands.usage,
                            backgroundColor: ["#d9534f", "#f0ad4e", "#5bc0de", "#5cb85c", "#999"],
                        },
                    ],
                },
                options: { plugins: { legend: { position: "bottom" } } },
            };
        }
        if (this.view === "years") {
            return {
                type: "bar",
                data: {
                    labels: data.years.labels,
                    datasets: [
                        bar(data.years.last_year_label, data.years.last_year, "#adb5bd"),
                        bar(data.years.this_year_label, data.years.this_year, "#017e84"),
                    ],
                },
                options: { scales: { y: { beginAtZero: true, title: { display: true, text: unit } } } },
            };
        }
        const series = data[this.view];
        return {
            data: {
                labels: series.labels,
                datasets: [
                    bar(usage, series.usage, "#017e84"),
                    line(money, series.cost, "#875a7b"),
                ],
            },
            options: { scales: twoAxes },
        };
    },

    _render() {
        const canvas = this.el.querySelector("canvas");
        const empty = this.el.querySelector(".o_prepaid_chart_empty");
        this.chart?.destroy();
        this.chart = null;
        if (this.data.empty) {
            empty.classList.remove("d-none");
            canvas.classList.add("d-none");
            return;
        }
        empty.classList.add("d-none");
        canvas.classList.remove("d-none");
        const config = this._config();
        config.options = {
            ...config.options,
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            interaction: { mode: "index", intersect: false },
        };
        this.chart = new Chart(canvas, config);
        this.el.dataset.rendered = this.view;
    },

    _onViewClick(ev) {
        ev.preventDefault();
        this.view = ev.currentTarget.dataset.chartView;
        for (const button of this.el.querySelectorAll("[data-chart-view]")) {
            button.classList.toggle("active", button === ev.currentTarget);
        }
        this._render();
    },

    async _onScopeChange(ev) {
        const [kind, value] = ev.currentTarget.value.split(":");
        await this._load(kind === "meter" ? { meter_id: parseInt(value) } : { utility: value });
    },
});
