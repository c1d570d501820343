"""The kvm-perf report's HTML page, a Jinja2 template (autoescaped: every
value a task or a host wrote is text; only the SVG figures, drawn here by
matplotlib, are markup). render.page fills it."""

PAGE = """\
{%- macro table(cols, rows, cls="") -%}
<table class='{{ cls }}'><tr>{% for c in cols %}<th>{{ c|cell }}</th>{% endfor %}</tr>
{%- for r in rows %}<tr>{% for v in r %}<td>{{ v|cell }}</td>{% endfor %}</tr>{% endfor %}</table>
{%- endmacro -%}
<!DOCTYPE html><html><head><meta charset='utf-8'><title>KVM instance vs host: rally-kvm-perf report</title><style>{{ css }}</style></head><body>
<h1>KVM instance vs physical host</h1>
<p>Generated {{ now }} by rally-kvm-perf from {{ sets|length }} Rally workload(s). Ratios are VM/host, oriented so that 1.0 is parity and below 1.0 the instance does worse (latency and CPU too). Data: {% for f in files %}<a href='{{ f }}'>{{ f }}</a>{{ ", " if not loop.last }}{% endfor %}.</p>
{%- if not sets %}
<p>No KVMPerf.bonnie / .netperf / .fio workload in these tasks.</p>
{%- else %}
<h2>Workloads</h2>
{{ table(workload_cols, workloads) }}
{%- if findings %}
<h2>The paper's findings on this cloud</h2>
<p>Each of Li, Cui and Li's conclusions judged on these data, with the burden of proof on them: "holds" where the 95% intervals show it, "does not hold" where they show the opposite, "cannot tell" otherwise (near parity: within 10 %; linear: no knee, at least 5 levels; unchanged: within ±5 %).</p>
{{ table(findings_cols, findings) }}
{%- endif %}
{%- if density %}
<h2>How many instances a host carries</h2>
<p>Per headline metric, the most instances per host at which the VM/host ratio stays at or above the threshold: up to the first measured level below it. 95% low: every level up to it is shown at or above the threshold; 95% high: no level up to it is shown below (open: none is). Beyond the measured levels the fitted line is extrapolated, and says so.</p>
{{ table(density_cols, density) }}
{%- endif %}
<h2>The paper's figures, redrawn</h2>
{%- for fid, svg in figures %}
<div class='figure' id='{{ fid }}'>{{ svg|safe }}</div>
{%- endfor %}
{%- if extra %}
<h2>Beyond the paper</h2>
{%- endif %}
{%- for fid, svg in extra %}
<div class='figure' id='{{ fid }}'>{{ svg|safe }}</div>
{%- endfor %}
{%- for comp in comps %}
<h2>Before / after: {{ comp.scenario }}</h2>
<p>Before: {{ comp.before }}. After: {{ comp.after }}. Welch's t-test per level on the repetitions' values (each the mean of its instances) (significant when p &lt; {{ "%.2f"|format(alpha) }}).</p>
{%- if comp.svg %}
<div class='figure' id='fig7'>{{ comp.svg|safe }}</div>
{%- endif %}
<ul>{% for cls, text in comp.sentences %}<li class='{{ cls }}'>{{ text }}</li>{% endfor %}</ul>
{{ table(comparison_cols, comp.rows) }}
{%- endfor %}
{%- for ds in datasets %}
<h2>{{ ds.label }}</h2>
{%- if ds.errors %}
<div class='error'><b>This workload failed.</b><ul>{% for e in ds.errors %}<li>{{ e }}</li>{% endfor %}</ul></div>
{%- endif %}
<h3>Per level (the paper's metrics and fio's key metrics; all metrics in ratios.csv)</h3>
{{ table(level_cols, ds.levels) }}
{%- if ds.contention is not none %}
<h3>Why the ratio falls: contention</h3>
<ul>{% for line in ds.explain %}<li>{{ line }}</li>{% endfor %}</ul>
{{ table(ds.contention.cols, ds.contention.rows) }}
{%- endif %}
<h3>Scaling fits</h3>
{{ table(fit_cols, ds.fits) }}
{%- if ds.hosts %}
<h3>Compute hosts: EPT/NPT</h3>
{{ table(ds.hosts.cols, ds.hosts.rows) }}
{%- endif %}
{%- if ds.pinning %}
<h3>Instances: vCPU pinning in libvirt</h3>
{{ table(ds.pinning.cols, ds.pinning.rows) }}
{%- endif %}
<h3>SLA</h3>
<ul>{% for s in ds.sla %}<li class='{{ "pass" if s.success else "fail" }}'>{{ s.criterion|cell }}: {{ s.detail|cell }}</li>{% endfor %}</ul>
{%- if ds.notes %}
<h3>Notes</h3><ul>{% for n in ds.notes %}<li>{{ n }}</li>{% endfor %}</ul>
{%- endif %}
{%- endfor %}
{%- endif %}
</body></html>
"""
