module github.com/stampede-load/stampede

go 1.26.8
