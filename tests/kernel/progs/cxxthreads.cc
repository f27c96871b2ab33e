// SPDX-License-Identifier: BSD-3-Clause
// C++ (g++ -static): iostream, exceptions thrown and caught across frames, std::thread, call_once.
#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

static int depth_throw(int n)
{
	if (n == 0)
		throw std::runtime_error("deep");
	return depth_throw(n - 1) + 1;
}

int main()
{
	int failures = 0;
	std::cout << "cxx: iostream works" << std::endl;

	try {
		depth_throw(50);
		failures++;
	} catch (const std::exception &e) {
		std::cout << "cxx: caught " << e.what() << " across 50 frames" << std::endl;
	}

	std::mutex m;
	std::condition_variable cv;
	long total = 0;
	int ready = 0;
	std::vector<std::thread> ts;
	for (int i = 0; i < 8; i++)
		ts.emplace_back([&, i] {
			for (int k = 0; k < 1000; k++) {
				std::lock_guard<std::mutex> g(m);
				total += i;
			}
			std::lock_guard<std::mutex> g(m);
			ready++;
			cv.notify_all();
		});
	{
		std::unique_lock<std::mutex> l(m);
		cv.wait(l, [&] { return ready == 8; });
	}
	for (auto &t : ts)
		t.join();
	if (total != 28000)
		failures++;
	std::cout << "cxx: 8 std::threads, total " << total << std::endl;

	std::once_flag once;
	std::atomic<int> calls{0};
	std::vector<std::thread> os;
	for (int i = 0; i < 4; i++)
		os.emplace_back([&] { std::call_once(once, [&] { calls++; }); });
	for (auto &t : os)
		t.join();
	if (calls != 1)
		failures++;

	std::exception_ptr ep;
	std::thread thrower([&] {
		try {
			throw std::string("from a thread");
		} catch (...) {
			ep = std::current_exception();
		}
	});
	thrower.join();
	try {
		std::rethrow_exception(ep);
	} catch (const std::string &s) {
		std::cout << "cxx: rethrown " << s << std::endl;
	}
	std::cout << (failures ? "FAILED" : "SUCCESS") << std::endl;
	return failures ? 1 : 0;
}
