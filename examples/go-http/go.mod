module capstan.example/go-http

go 1.19
