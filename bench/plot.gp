# gnuplot -e "dir='bench/results/latest'" bench/plot.gp
#
# The plots of a bench/run: bandwidth and latency by size per system (write
# and read side by side), grant latency by region size, scaling by clients.
# Figures are emulated (qemu TCG): compare the lines, not the numbers.
if (!exists("dir")) dir = "bench/results/latest"
set datafile separator ","
set terminal pngcairo size 1200,500 font ",10"
set grid
set key top left font ",9"
systems = "perftest perftest-dax-odp sealmr-dax sealmr-dax-qps4 sealmr-pagecache sealmr-tmpfs sealmr-fio librpma fio-rdma"
summary = dir."/summary.csv"

# One series: SIZE,FIGURE lines of a system and op, sorted by size; bandwidth
# rows leave lat_us (column 6) empty, latency rows mb_per_s (column 5).
series(s, op, kind) = sprintf("< awk -F, -v s=%s -v op=%s -v k=%s 'NR > 1 && $1 == s && $2 == op && \
	(k == \"bw\" ? $6 == \"\" && $5 != \"\" : $5 == \"\" && $6 != \"\") \
	{ print $3 \",\" (k == \"bw\" ? $5 : $6) }' %s | sort -t, -k1,1n", s, op, kind, summary)

set output dir."/bandwidth.png"
set multiplot layout 1,2 title "Bandwidth by message size, depth 16 (emulated: qemu TCG, rxe)"
set logscale x 2
set xlabel "bytes per operation"
set format x "%.0b %BB"
set ylabel "MB/s"
set xrange [2048:2097152]
set yrange [0:*]
do for [op in "write read"] {
	set title "RDMA ".op
	plot for [s in systems] series(s, op, "bw") using 1:2 with linespoints title s
}
unset multiplot

# Every compared cell: the median of its per-round ratios and the interval
# for that median (ratios.csv), against 1 (parity with its reference).
set terminal pngcairo size 1400,650 font ",10"
set output dir."/ratios.png"
set title "Paired ratios to each cell's reference: median and its interval (emulated)"
unset logscale
unset format
set format x "%g"
set autoscale x
set offsets 0.5, 0.5, 0, 0
set yrange [0:*]
set xlabel ""
set ylabel "ratio (latency: lower is better)"
set xtics rotate by -40 font ",8" nomirror
set bmargin 12
set rmargin 12
label(a, b, c, d) = sprintf("%s %s %s / %s", a, b, c, d)
plot dir."/ratios.csv" every ::1 using 0:5:6:7:xticlabels(label(strcol(1), strcol(2), strcol(3), strcol(4))) \
	with yerrorbars pointtype 7 title "median, interval", \
     1 with lines dashtype 2 title "parity"

set offsets 0, 0, 0, 0
set bmargin
set xtics norotate font ",10" mirror

# The full run's series (a --quick run has none: run-report says full=0).
if (!exists("full")) full = 1
if (full) {
	set output dir."/latency.png"
	set multiplot layout 1,2 title "Latency by message size, one operation at a time (emulated)"
	set ylabel "us"
	set xrange [4:8192]
	do for [op in "write read"] {
		set title "RDMA ".op
		plot for [s in systems] series(s, op, "lat") using 1:2 with linespoints title s
	}
	unset multiplot

	set terminal pngcairo size 800,500 font ",10"
	set output dir."/grant-latency.png"
	set title "Grant latency: open to usable rkey (emulated)"
	set logscale xy 2
	set autoscale x
	set xlabel "region size, MiB"
	set ylabel "us"
	grants = dir."/grant-latency.csv"
	gl(s) = sprintf("< awk -F, -v s=%s 'NR > 1 && $1 == s && $3 != \"\"' %s", s, grants)
	set format x "%g"
	plot gl("sealmr-dax-odp") using ($2 / 1048576):3 with linespoints title "open (fs-dax, ODP)", \
	     gl("sealmr-dax-odp") using ($2 / 1048576):4 with linespoints dashtype 2 title "open + first 4 KiB read"

	set output dir."/scaling.png"
	set title "Clients on one daemon (emulated)"
	unset logscale
	set logscale x 2
	set xlabel "clients"
	set ylabel "READ MB/s (64 KiB, depth 4 each)"
	set y2label "grants/s (4 MiB)"
	set ytics nomirror
	set y2tics
	plot dir."/scaling.csv" every ::1 using 1:4 with linespoints title "aggregate READ MB/s", \
	     dir."/scaling.csv" every ::1 using 1:5 axes x1y2 with linespoints title "grants/s"
}
